/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's settings: what runs a container (the runtime binary, its
 * state root, the systemd cgroup driver), from, lowest first, the
 * built-in defaults, the node's shim.json (its top level, then the
 * section of the container's runtime handler), the request's shim.json
 * (runtimeoptions.v1.Options: its ConfigPath or ConfigBody) and the
 * request's containerd.runc.v1.Options.
 *
 *   {"rune": "/usr/bin/rune", "root": "/run/containerd/runc",
 *    "systemd_cgroup": false,
 *    "handlers": {"rune-sgx": {"rune": "/opt/rune/bin/rune"}}}
 *
 * A config file must be a regular file owned by root and not writable by
 * group or others; anything else in it (unknown key, wrong type, relative
 * path) is an error naming the file and the reason.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"

#define CONFIG_MAX (1 << 20)

void settings_free(struct settings *st)
{
	free(st->rune);
	free(st->root);
	st->rune = st->root = NULL;
	st->systemd_cgroup = -1;
	for (int i = 0; i < CS_N; i++) {
		free(st->carrier[i]);
		st->carrier[i] = NULL;
	}
	st->cache_entries = st->cache_mb = 0;
}

static void merge_str(char **dst, const char *over)
{
	if (over) {
		free(*dst);
		*dst = strdup(over);
	}
}

void settings_merge(struct settings *dst, const struct settings *over)
{
	merge_str(&dst->rune, over->rune);
	merge_str(&dst->root, over->root);
	if (over->systemd_cgroup >= 0)
		dst->systemd_cgroup = over->systemd_cgroup;
	for (int i = 0; i < CS_N; i++)
		merge_str(&dst->carrier[i], over->carrier[i]);
	if (over->cache_entries > 0)
		dst->cache_entries = over->cache_entries;
	if (over->cache_mb > 0)
		dst->cache_mb = over->cache_mb;
}

static int path_value(json_t *v, const char *name, const char *where, const char *key, char **out,
		      err_t *err)
{
	const char *s = json_string_value(v);

	if (s == NULL)
		return err_set(err, EINVAL, "%s: %s\"%s\": not a string", name, where, key);
	if (s[0] != '/')
		return err_set(err, EINVAL, "%s: %s\"%s\": \"%s\" is not an absolute path", name,
			       where, key, s);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : err_sys(err, ENOMEM, "%s", name);
}

/* The signature service's keys: each an absolute path but its url. */
static const char *const server_keys[] = {
	[CS_URL] = "url",	   [CS_TOKEN] = "token_file",	   [CS_CACERT] = "cacert",
	[CS_CERT] = "client_cert", [CS_CLIENT_KEY] = "client_key",
};

static bool is_carrier_key(const char *key)
{
	static const char *const keys[] = { "signature_method",	     "signing_key",
					    "signature_server",	     "carrier_cache",
					    "carrier_cache_entries", "carrier_cache_mb" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static int signature_server(json_t *obj, const char *name, const char *where, struct settings *st,
			    err_t *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return err_set(err, EINVAL, "%s: %s\"signature_server\": not a JSON object", name,
			       where);
	json_object_foreach(obj, key, v)
	{
		int i, ret;

		for (i = CS_URL; i <= CS_CLIENT_KEY; i++)
			if (strcmp(key, server_keys[i]) == 0)
				break;
		if (i > CS_CLIENT_KEY)
			return err_set(err, EINVAL,
				       "%s: %s\"signature_server\": unknown key \"%s\"", name,
				       where, key);
		if (i != CS_URL) {
			ret = path_value(v, name, where, key, &st->carrier[i], err);
			if (ret < 0)
				return ret;
			continue;
		}
		if (!json_is_string(v) || (strncmp(json_string_value(v), "https://", 8) &&
					   strncmp(json_string_value(v), "http://", 7)))
			return err_set(err, EINVAL,
				       "%s: %s\"signature_server\": \"url\": not an http(s):// URL",
				       name, where);
		free(st->carrier[CS_URL]);
		st->carrier[CS_URL] = strdup(json_string_value(v));
	}
	return 0;
}

/* The Carrier's keys (is_carrier_key). */
static int carrier_value(json_t *v, const char *name, const char *where, const char *key,
			 struct settings *st, err_t *err)
{
	if (strcmp(key, "signature_method") == 0) {
		const char *m = json_string_value(v);

		if (!m || (strcmp(m, "server") && strcmp(m, "client") && strcmp(m, "local-key")))
			return err_set(err, EINVAL,
				       "%s: %s\"%s\": not \"server\", \"client\" or \"local-key\"",
				       name, where, key);
		free(st->carrier[CS_METHOD]);
		st->carrier[CS_METHOD] = strdup(m);
		return st->carrier[CS_METHOD] ? 0 : err_sys(err, ENOMEM, "%s", name);
	}
	if (strcmp(key, "signing_key") == 0)
		return path_value(v, name, where, key, &st->carrier[CS_KEY], err);
	if (strcmp(key, "carrier_cache") == 0)
		return path_value(v, name, where, key, &st->carrier[CS_CACHE], err);
	if (strcmp(key, "signature_server") == 0)
		return signature_server(v, name, where, st, err);
	/* carrier_cache_entries, carrier_cache_mb */
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 1000000)
		return err_set(err, EINVAL, "%s: %s\"%s\": not an integer from 1 to 1000000", name,
			       where, key);
	*(strcmp(key, "carrier_cache_mb") ? &st->cache_entries : &st->cache_mb) =
	    (long)json_integer_value(v);
	return 0;
}

/* One level of settings: the top level (handlers allowed) or a handler's section. */
static int section(json_t *obj, const char *name, const char *where, bool top, struct settings *st,
		   err_t *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return err_set(err, EINVAL, "%s: %snot a JSON object", name, where);
	json_object_foreach(obj, key, v)
	{
		int ret = 0;

		if (strcmp(key, "rune") == 0)
			ret = path_value(v, name, where, key, &st->rune, err);
		else if (strcmp(key, "root") == 0)
			ret = path_value(v, name, where, key, &st->root, err);
		else if (strcmp(key, "systemd_cgroup") == 0) {
			if (!json_is_boolean(v))
				ret = err_set(err, EINVAL, "%s: %s\"%s\": not true or false", name,
					      where, key);
			else
				st->systemd_cgroup = json_is_true(v);
		} else if (is_carrier_key(key)) {
			ret = carrier_value(v, name, where, key, st, err);
		} else if (top && strcmp(key, "handlers") == 0) {
			if (!json_is_object(v))
				ret = err_set(err, EINVAL, "%s: \"handlers\": not a JSON object",
					      name);
		} else {
			ret = err_set(err, EINVAL, "%s: %sunknown key \"%s\"", name, where, key);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The settings of a parsed shim.json: its top level, then the handler's section. */
static int apply(json_t *root, const char *name, const char *handler, struct settings *st,
		 err_t *err)
{
	json_t *handlers, *h;
	const char *key;
	int ret;

	ret = section(root, name, "", true, st, err);
	handlers = json_object_get(root, "handlers");
	/* every handler's section is checked, not only the one used */
	json_object_foreach(handlers, key, h)
	{
		_cleanup_free_ char *where = NULL;
		struct settings hs = { .systemd_cgroup = -1 };

		if (ret < 0)
			break;
		if (asprintf(&where, "handler \"%s\": ", key) < 0) {
			ret = err_sys(err, ENOMEM, "%s", name);
			break;
		}
		ret = section(h, name, where, false, &hs, err);
		if (ret == 0 && handler && strcmp(key, handler) == 0)
			settings_merge(st, &hs);
		settings_free(&hs);
	}
	return ret;
}

int config_parse(const char *text, size_t len, const char *name, const char *handler,
		 struct settings *st, err_t *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	int ret;

	if (root == NULL)
		return err_set(err, EINVAL, "%s: line %d column %d: %s", name, jerr.line,
			       jerr.column, jerr.text);
	ret = apply(root, name, handler, st, err);
	json_decref(root);
	return ret;
}

/* ------------------------------------------------------------ TOML */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static void put_utf8(char **o, unsigned cp)
{
	if (cp < 0x80) {
		*(*o)++ = (char)cp;
	} else if (cp < 0x800) {
		*(*o)++ = (char)(0xc0 | cp >> 6);
		*(*o)++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*(*o)++ = (char)(0xe0 | cp >> 12);
		*(*o)++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*(*o)++ = (char)(0x80 | (cp & 0x3f));
	}
}

/*
 * A one-line TOML string at *pp ("basic", with escapes, or 'literal'),
 * malloc'ed into *out; NULL with *why on error.
 */
static char *toml_string(const char **pp, const char *end, const char **why)
{
	const char *p = *pp;
	char q = *p++, *out = malloc((size_t)(end - p) * 3 + 1), *o = out;

	if (out == NULL) {
		*why = "out of memory";
		return NULL;
	}
	while (p < end && *p != q) {
		unsigned cp = 0;

		if (*p != '\\' || q == '\'') {
			*o++ = *p++;
			continue;
		}
		if (++p == end)
			break;
		switch (*p++) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'u':
			for (int i = 0; i < 4; i++, p++) {
				if (p == end || !strchr("0123456789abcdefABCDEF", *p) || !*p) {
					*why = "a bad \\u escape";
					free(out);
					return NULL;
				}
				cp = cp << 4 |
				     (unsigned)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
			}
			if (cp == 0 || (cp >= 0xd800 && cp < 0xe000)) {
				*why = "a bad \\u escape";
				free(out);
				return NULL;
			}
			put_utf8(&o, cp);
			break;
		default:
			*why = "an unknown escape";
			free(out);
			return NULL;
		}
	}
	if (p == end) {
		*why = "an unterminated string";
		free(out);
		return NULL;
	}
	*o = '\0';
	*pp = p + 1;
	return out;
}

/*
 * What containerd 1.7 and later put in runtimeoptions' ConfigBody: the
 * handler's options table as TOML. Flat only: `key = "string"`, `'literal'`,
 * `true` or `false`, comments; TypeUrl and ConfigPath are containerd's.
 */
int config_parse_toml(const char *text, size_t len, const char *name, const char *handler,
		      struct settings *st, err_t *err)
{
	const char *p = text, *end = text + len;
	json_t *root = json_object();
	int line = 0, ret = 0;

	if (root == NULL)
		return err_sys(err, ENOMEM, "%s", name);
	while (p < end && ret == 0) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *next, *why = NULL, *k;
		_cleanup_free_ char *key = NULL, *sval = NULL;
		json_t *v = NULL;

		if (eol == NULL)
			eol = end;
		next = eol == end ? end : eol + 1;
		line++;
		p = skip_ws(p, eol);
		if (p < eol && eol[-1] == '\r')
			eol--;
		if (p == eol || *p == '#') {
			p = next;
			continue;
		}
		if (*p == '[') {
			why = "tables are not supported (name a shim.json with ConfigPath)";
		} else if (*p == '"' || *p == '\'') {
			key = toml_string(&p, eol, &why);
		} else {
			for (k = p;
			     p < eol && (isalnum((unsigned char)*p) || *p == '_' || *p == '-');)
				p++;
			if (p == k)
				why = "a key expected";
			else
				key = strndup(k, (size_t)(p - k));
		}
		if (why == NULL) {
			p = skip_ws(p, eol);
			if (p == eol || *p != '=')
				why = "'=' expected after the key";
			else
				p = skip_ws(p + 1, eol);
		}
		if (why == NULL) {
			if (p < eol && (*p == '"' || *p == '\'')) {
				if (eol - p >= 3 && p[1] == *p && p[2] == *p)
					why = "multi-line strings are not supported";
				else if ((sval = toml_string(&p, eol, &why)) != NULL &&
					 (v = json_string(sval)) == NULL)
					why = "a string that is not UTF-8";
			} else if (eol - p >= 4 && strncmp(p, "true", 4) == 0) {
				v = json_true();
				p += 4;
			} else if (eol - p >= 5 && strncmp(p, "false", 5) == 0) {
				v = json_false();
				p += 5;
			} else {
				why = "only strings and true or false are supported";
			}
		}
		if (why == NULL) {
			p = skip_ws(p, eol);
			if (p < eol && *p != '#')
				why = "the line goes on after the value";
		}
		if (why == NULL && v == NULL)
			why = "out of memory";
		if (why == NULL && json_object_get(root, key))
			why = "a duplicate key";
		if (why) {
			json_decref(v);
			ret = err_set(err, EINVAL, "%s: line %d: %s", name, line, why);
			break;
		}
		if (strcmp(key, "TypeUrl") == 0 || strcmp(key, "ConfigPath") == 0)
			json_decref(v);
		else
			json_object_set_new(root, key, v);
		p = next;
	}
	if (ret == 0)
		ret = apply(root, name, handler, st, err);
	json_decref(root);
	return ret;
}

int config_load(const char *path, bool missing_ok, const char *handler, struct settings *st,
		err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	struct stat sb;
	size_t len = 0;

	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return err_sys(err, errno, "%s", path);
	}
	if (fstat(fd, &sb) < 0)
		return err_sys(err, errno, "%s", path);
	if (!S_ISREG(sb.st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", path);
	if (sb.st_uid != 0)
		return err_set(err, EPERM, "%s: owned by uid %u, not root: refused", path,
			       (unsigned)sb.st_uid);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(err, EPERM, "%s: writable by group or others (mode %04o): refused",
			       path, (unsigned)(sb.st_mode & 07777));
	if (sb.st_size > CONFIG_MAX)
		return err_set(err, EFBIG, "%s: larger than %d bytes", path, CONFIG_MAX);
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL)
		return err_sys(err, ENOMEM, "%s", path);
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "read %s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return config_parse(buf, len, path, handler, st, err);
}

const char *config_path(void)
{
	const char *p = getenv(SHIM_CONFIG_ENV);

	return p && *p ? p : SHIM_CONFIG;
}
