/* SPDX-License-Identifier: Apache-2.0 */
/* shim.json: the parser, handler sections, layering, the file checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"
#include "../tap.h"

/* st with nothing set, as the parsers expect it */
static void unset(struct settings *st)
{
	memset(st, 0, sizeof(*st));
	st->systemd_cgroup = -1;
}

static int parse(const char *text, const char *handler, struct settings *st, err_t *err)
{
	unset(st);
	return config_parse(text, strlen(text), "shim.json", handler, st, err);
}

/* a text a parser refuses: the message must contain want */
struct bad_case {
	const char *text, *want, *name;
};

static const char full[] = "{\"rune\": \"/usr/bin/rune\", \"root\": \"/run/r\",\n"
			   " \"systemd_cgroup\": false,\n"
			   " \"handlers\": {\"rune-sgx\": {\"rune\": \"/opt/sgx/rune\",\n"
			   "                            \"systemd_cgroup\": true},\n"
			   "              \"other\": {\"root\": \"/run/o\"}}}";

static void t_defaults_and_handler(void)
{
	_cleanup_error_ err_t err = NULL;
	struct settings st;

	TAP_OK(parse(full, NULL, &st, &err) == 0, "node defaults parse");
	TAP_OK(st.rune && strcmp(st.rune, "/usr/bin/rune") == 0 && st.root &&
		   strcmp(st.root, "/run/r") == 0 && st.systemd_cgroup == 0,
	       "node defaults: rune, root, systemd_cgroup");
	settings_free(&st);
	TAP_OK(parse(full, "rune-sgx", &st, &err) == 0, "handler rune-sgx parses");
	TAP_OK(st.rune && strcmp(st.rune, "/opt/sgx/rune") == 0 && strcmp(st.root, "/run/r") == 0 &&
		   st.systemd_cgroup == 1,
	       "the handler's section over the defaults; what it lacks from the defaults");
	settings_free(&st);
	TAP_OK(parse(full, "nosuch", &st, &err) == 0 && strcmp(st.rune, "/usr/bin/rune") == 0,
	       "an unknown handler: the defaults");
	settings_free(&st);
	TAP_OK(parse("{}", "x", &st, &err) == 0 && st.rune == NULL && st.root == NULL &&
		   st.systemd_cgroup == -1,
	       "an empty object sets nothing");
}

static void t_merge(void)
{
	struct settings lo = { strdup("/a"), strdup("/r"), 0 }, hi = { NULL, strdup("/s"), -1 };

	settings_merge(&lo, &hi);
	TAP_OK(strcmp(lo.rune, "/a") == 0 && strcmp(lo.root, "/s") == 0 && lo.systemd_cgroup == 0,
	       "merge: what is set wins, the rest stays");
	settings_free(&lo);
	settings_free(&hi);
}

static void bad(const char *text, const char *want, const char *name)
{
	_cleanup_error_ err_t err = NULL;
	struct settings st;
	int ret = parse(text, "h", &st, &err);
	const char *msg = err_msg(err);

	TAP_OK(ret < 0 && strstr(msg, want) && strncmp(msg, "shim.json: ", 11) == 0 &&
		   !strchr(msg, '\n'),
	       "%s: one line naming the file and \"%s\" (got: %s)", name, want, msg);
	settings_free(&st);
}

static const struct bad_case bad_json[] = {
	{ "{\"rune\": \"/x\",}", "line 1 column", "malformed JSON" },
	{ "{\n\"rune\": \"/x\"\n", "line", "truncated JSON" },
	{ "[1]", "not a JSON object", "an array" },
	{ "{\"rune\": 5}", "\"rune\": not a string", "a number for a path" },
	{ "{\"rune\": \"bin/rune\"}", "not an absolute path", "a relative path" },
	{ "{\"systemd_cgroup\": \"yes\"}", "not true or false", "a string for a boolean" },
	{ "{\"runtime\": \"/x\"}", "unknown key \"runtime\"", "an unknown key" },
	{ "{\"handlers\": []}", "\"handlers\": not a JSON object", "handlers not an object" },
	{ "{\"handlers\": {\"h\": {\"handlers\": {}}}}", "handler \"h\": unknown key \"handlers\"",
	  "handlers within a handler" },
	{ "{\"handlers\": {\"other\": {\"root\": \"rel\"}}}", "handler \"other\": \"root\"",
	  "an error in a handler not used is still an error" },
	{ "{\"rune\": \"/a\", \"rune\": \"/b\"}", "duplicate", "a duplicate key" },
	{ "{\"signature_method\": \"remote\"}", "\"signature_method\": not \"server\"",
	  "an unknown signature method" },
	{ "{\"signing_key\": \"key.pem\"}", "\"signing_key\": \"key.pem\" is not an absolute",
	  "a relative signing key" },
	{ "{\"signature_server\": {\"url\": \"ftp://x\"}}", "not an http(s):// URL",
	  "a signature server URL that is not HTTP" },
	{ "{\"signature_server\": {\"token\": \"/t\"}}",
	  "\"signature_server\": unknown key \"token\"", "an unknown signature server key" },
	{ "{\"carrier_cache_entries\": 0}", "not an integer from 1", "a cache of no entries" },
	{ "{\"carrier_cache_mb\": \"5\"}", "not an integer from 1", "a cache size as a string" },
};

/* The Carrier's keys: parsed, per handler, merged. */
static void t_carrier(void)
{
	static const char text[] =
	    "{\"signature_method\": \"server\", \"signature_server\": {\"url\": "
	    "\"https://signd:8443\", \"token_file\": \"/etc/rune/t\", \"cacert\": \"/ca\"},"
	    " \"carrier_cache\": \"/var/c\", \"carrier_cache_entries\": 3,"
	    " \"handlers\": {\"dev\": {\"signature_method\": \"local-key\", \"signing_key\": "
	    "\"/k.pem\", \"carrier_cache_mb\": 9}}}";
	_cleanup_error_ err_t err = NULL;
	struct settings st;

	TAP_OK(parse(text, NULL, &st, &err) == 0, "the Carrier's keys parse (%s)", err_msg(err));
	TAP_OK(!strcmp(st.carrier[CS_METHOD], "server") &&
		   !strcmp(st.carrier[CS_URL], "https://signd:8443") &&
		   !strcmp(st.carrier[CS_TOKEN], "/etc/rune/t") &&
		   !strcmp(st.carrier[CS_CACERT], "/ca") &&
		   !strcmp(st.carrier[CS_CACHE], "/var/c") && st.cache_entries == 3 &&
		   st.cache_mb == 0 && !st.carrier[CS_KEY],
	       "signature method, server, cache");
	settings_free(&st);
	TAP_OK(parse(text, "dev", &st, &err) == 0 && !strcmp(st.carrier[CS_METHOD], "local-key") &&
		   !strcmp(st.carrier[CS_KEY], "/k.pem") && st.cache_mb == 9 &&
		   st.cache_entries == 3 && !strcmp(st.carrier[CS_URL], "https://signd:8443"),
	       "a handler's Carrier keys over the node's");
	settings_free(&st);
}

static void t_errors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_json); i++)
		bad(bad_json[i].text, bad_json[i].want, bad_json[i].name);
}

static int toml(const char *text, struct settings *st, err_t *err)
{
	unset(st);
	return config_parse_toml(text, strlen(text), "body", "h", st, err);
}

static void bad_toml(const char *text, const char *want, const char *name)
{
	_cleanup_error_ err_t err = NULL;
	struct settings st;
	int ret = toml(text, &st, &err);

	TAP_OK(ret < 0 && strstr(err_msg(err), want) && !strchr(err_msg(err), '\n'),
	       "TOML %s: \"%s\" (got: %s)", name, want, err_msg(err));
	settings_free(&st);
}

static const struct bad_case bad_tomls[] = {
	{ "rune = \"/a\"\n[handlers.h]\nrune = \"/b\"", "body: line 2: tables are not supported",
	  "a table" },
	{ "root = 5", "line 1: only strings and true or false", "a number" },
	{ "root = \"/a", "unterminated string", "an unterminated string" },
	{ "root \"/a\"", "'=' expected", "no '='" },
	{ "root = \"/a\" x", "goes on after the value", "trailing text" },
	{ "root = \"/a\"\nroot = \"/b\"", "line 2: a duplicate key", "a duplicate key" },
	{ "root = \"\"\"/a\"\"\"", "multi-line strings", "a multi-line string" },
	{ "root = \"\\q\"", "unknown escape", "an unknown escape" },
	{ "root = \"rel\"", "body: \"root\": \"rel\" is not an absolute path",
	  "a relative path (the shim.json rules)" },
	{ "BinaryName = \"/x\"", "body: unknown key \"BinaryName\"", "runc's key" },
};

/* containerd 1.7+'s ConfigBody: the handler's options table, re-marshalled */
static void t_toml(void)
{
	_cleanup_error_ err_t err = NULL;
	struct settings st;

	TAP_OK(toml("# the options\r\nTypeUrl = \"x\"\nrune = \"/usr/bin/rune\"  # the binary\n\n"
		    "  root = '/run/a\\b'\r\nsystemd_cgroup = true\nConfigPath = \"\"\n",
		    &st, &err) == 0,
	       "TOML: a flat table parses (%s)", err_msg(err));
	TAP_OK(st.rune && strcmp(st.rune, "/usr/bin/rune") == 0 && st.root &&
		   strcmp(st.root, "/run/a\\b") == 0 && st.systemd_cgroup == 1,
	       "TOML: strings (basic, literal), booleans; TypeUrl and ConfigPath left out");
	settings_free(&st);
	TAP_OK(toml("\"rune\" = \"/opt/r\\u00e9\\\"q\"", &st, &err) == 0 && st.rune &&
		   strcmp(st.rune, "/opt/r\xc3\xa9\"q") == 0,
	       "TOML: a quoted key, escapes (\\u, \\\")");
	settings_free(&st);
	TAP_OK(toml("", &st, &err) == 0 && st.rune == NULL, "TOML: an empty body sets nothing");
	settings_free(&st);
	for (size_t i = 0; i < ARRAY_SIZE(bad_tomls); i++)
		bad_toml(bad_tomls[i].text, bad_tomls[i].want, bad_tomls[i].name);
}

static void t_file(void)
{
	char dir[] = "/tmp/shim-config.XXXXXX", path[64];
	_cleanup_error_ err_t err = NULL;
	struct settings st = { NULL, NULL, -1 };
	int fd;

	if (mkdtemp(dir) == NULL) {
		TAP_OK(false, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/shim.json", dir);
	TAP_OK(config_load(path, true, NULL, &st, &err) == 0 && st.rune == NULL,
	       "a missing file that may be missing: nothing set");
	TAP_OK(config_load(path, false, NULL, &st, &err) < 0 && strstr(err_msg(err), path),
	       "a missing file that must exist: an error naming it");
	err_free(&err);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, full, strlen(full)) != (ssize_t)strlen(full)) {
		TAP_OK(false, "write %s", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	if (geteuid() == 0) {
		TAP_OK(config_load(path, false, "other", &st, &err) == 0 &&
			   strcmp(st.root, "/run/o") == 0,
		       "a root-owned 0644 file loads (handler other)");
		settings_free(&st);
		chmod(path, 0664);
		TAP_OK(config_load(path, false, NULL, &st, &err) < 0 &&
			   strstr(err_msg(err), "writable by group or others (mode 0664): refused"),
		       "a group-writable file is refused: %s", err_msg(err));
		err_free(&err);
		chmod(path, 0646);
		TAP_OK(config_load(path, false, NULL, &st, &err) < 0 &&
			   strstr(err_msg(err), "refused"),
		       "an other-writable file is refused");
		err_free(&err);
		chmod(path, 0644);
		if (chown(path, 1000, 0) == 0) {
			TAP_OK(config_load(path, false, NULL, &st, &err) < 0 &&
				   strstr(err_msg(err), "not root: refused"),
			       "a file not owned by root is refused: %s", err_msg(err));
			err_free(&err);
		}
	} else {
		printf("ok - file ownership checks # SKIP not root\n");
	}
	TAP_OK(config_load(dir, false, NULL, &st, &err) < 0 &&
		   strstr(err_msg(err), "not a regular file"),
	       "a directory is refused");
	err_free(&err);
	settings_free(&st);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	t_defaults_and_handler();
	t_merge();
	t_errors();
	t_carrier();
	t_toml();
	t_file();
	return tap_exit();
}
