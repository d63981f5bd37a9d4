/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clients and policies: the tokens file (names, token hashes, policy names)
 * and the configuration's "policies", loaded together into an immutable
 * snapshot that SIGHUP replaces. gen-token and revoke-token edit the tokens
 * file.
 *
 * Tokens file: {"clients": [{"name": N, "sha256": HEX, "token_expires":
 * "YYYY-MM-DDTHH:MM:SSZ", "cert_cn": CN, "policy": P}, ...]}: a client has
 * a token (its hash, and optionally when it expires), a client certificate
 * (its subject CN, under the configured client CA), or both.
 */
#include "signd/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/cleanup.h"

#define TOKENS_MAX   (4 << 20)
#define CONFIG_MAX   (1 << 20)
#define TOKEN_PREFIX "signd_"
#define TOKEN_BYTES  32

static void auth_free(struct signd_auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_policies; i++)
		signd_policy_free(&a->policies[i]);
	for (size_t i = 0; i < a->n_clients; i++) {
		free(a->clients[i].name);
		free(a->clients[i].cert_cn);
	}
	free(a->policies);
	free(a->clients);
	if (a->trust)
		gnutls_x509_trust_list_deinit(a->trust, 1);
	free(a);
}

void signd_auth_get(struct signd_auth *a)
{
	__atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
}

void signd_auth_put(struct signd_auth *a)
{
	if (a && __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0)
		auth_free(a);
}

static int load_policies(struct signd_auth *a, const char *config_path, err_t *err)
{
	json_t *conf = NULL, *pols = NULL, *v;
	const char *name;
	int have_default = 0, ret = 0;
	size_t n = 0;

	if (config_path) {
		ret = signd_load_json("config", config_path, CONFIG_MAX, &conf, err);
		if (ret < 0)
			return ret;
		pols = json_object_get(conf, "policies");
		if (pols && !json_is_object(pols)) {
			ret = err_set(err, EINVAL, "config %s: policies: expected an object",
				      config_path);
			goto out;
		}
	}
	a->policies = calloc((pols ? json_object_size(pols) : 0) + 1, sizeof(*a->policies));
	if (a->policies == NULL) {
		ret = err_set(err, ENOMEM, "policies: out of memory");
		goto out;
	}
	if (pols) {
		json_object_foreach(pols, name, v)
		{
			ret = signd_policy_parse(&a->policies[n], name, v, err);
			if (ret < 0) {
				err_wrap(err, "config %s", config_path);
				goto out;
			}
			n++;
			a->n_policies = n;
			if (strcmp(name, "default") == 0)
				have_default = 1;
		}
	}
	if (!have_default) {
		ret = signd_policy_default(&a->policies[n], err);
		if (ret < 0)
			goto out;
		a->n_policies = n + 1;
	}
out:
	json_decref(conf);
	return ret;
}

static const struct signd_policy *find_policy(const struct signd_auth *a, const char *name)
{
	for (size_t i = 0; i < a->n_policies; i++)
		if (strcmp(a->policies[i].name, name) == 0)
			return &a->policies[i];
	return NULL;
}

/* The "clients" array of a tokens file, checked entry by entry. */
static int tokens_clients(json_t *tokens, const char *path, json_t **clients, err_t *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(tokens, key, v)
	{
		if (strcmp(key, "clients") != 0)
			return err_set(err, EINVAL, "tokens file %s: unknown key '%s'", path, key);
	}
	*clients = json_object_get(tokens, "clients");
	if (*clients == NULL || !json_is_array(*clients))
		return err_set(err, EINVAL, "tokens file %s: \"clients\": expected an array", path);
	return 0;
}

static int load_clients(struct signd_auth *a, const char *path, err_t *err)
{
	json_t *tokens = NULL, *clients, *c, *v;
	const char *key;
	size_t i;
	int ret;

	ret = signd_load_json("tokens file", path, TOKENS_MAX, &tokens, err);
	if (ret < 0)
		return ret;
	ret = tokens_clients(tokens, path, &clients, err);
	if (ret < 0)
		goto out;
	a->clients = calloc(json_array_size(clients) + 1, sizeof(*a->clients));
	if (a->clients == NULL) {
		ret = err_set(err, ENOMEM, "tokens: out of memory");
		goto out;
	}
	json_array_foreach(clients, i, c)
	{
		struct signd_client *cl = &a->clients[i];
		const char *name = NULL, *hash = NULL, *cn = NULL, *policy = "default";
		const char *expires = NULL;

		if (!json_is_object(c)) {
			ret = err_set(err, EINVAL, "tokens file %s: clients[%zu]: not an object",
				      path, i);
			goto out;
		}
		json_object_foreach(c, key, v)
		{
			const char **dst = strcmp(key, "name") == 0	       ? &name
					   : strcmp(key, "sha256") == 0	       ? &hash
					   : strcmp(key, "cert_cn") == 0       ? &cn
					   : strcmp(key, "policy") == 0	       ? &policy
					   : strcmp(key, "token_expires") == 0 ? &expires
									       : NULL;
			if (dst == NULL || !json_is_string(v)) {
				ret = err_set(
				    err, EINVAL,
				    dst ? "tokens file %s: clients[%zu]: '%s' is not a string"
					: "tokens file %s: clients[%zu]: unknown key '%s'",
				    path, i, key);
				goto out;
			}
			*dst = json_string_value(v);
		}
		if (name == NULL || !signd_valid_name(name)) {
			ret = err_set(err, EINVAL, "tokens file %s: clients[%zu]: bad or no name",
				      path, i);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->clients[j].name, name) == 0) {
				ret = err_set(err, EINVAL, "tokens file %s: client '%s' twice",
					      path, name);
				goto out;
			}
		if (hash == NULL && cn == NULL) {
			ret = err_set(err, EINVAL,
				      "tokens file %s: client '%s': neither a token (\"sha256\") "
				      "nor a certificate (\"cert_cn\")",
				      path, name);
			goto out;
		}
		if (hash && signd_unhex(hash, cl->hash, 32) < 0) {
			ret = err_set(err, EINVAL,
				      "tokens file %s: client '%s': sha256: expected 64 hex digits",
				      path, name);
			goto out;
		}
		cl->has_token = hash != NULL;
		if (expires && (hash == NULL || signd_parse_time(expires, &cl->expires) < 0 ||
				cl->expires <= 0)) {
			ret = err_set(err, EINVAL,
				      hash ? "tokens file %s: client '%s': token_expires: expected "
					     "YYYY-MM-DDTHH:MM:SSZ (UTC)"
					   : "tokens file %s: client '%s': token_expires without a "
					     "token (\"sha256\")",
				      path, name);
			goto out;
		}
		if (cn && (*cn == '\0' || strlen(cn) > 256)) {
			ret = err_set(
			    err, EINVAL,
			    "tokens file %s: client '%s': cert_cn: expected 1-256 characters", path,
			    name);
			goto out;
		}
		for (size_t j = 0; cn && j < i; j++)
			if (a->clients[j].cert_cn && strcmp(a->clients[j].cert_cn, cn) == 0) {
				ret = err_set(err, EINVAL,
					      "tokens file %s: clients '%s' and '%s' have the same "
					      "cert_cn '%s'",
					      path, a->clients[j].name, name, cn);
				goto out;
			}
		cl->policy = find_policy(a, policy);
		if (cl->policy == NULL) {
			ret = err_set(err, EINVAL,
				      "tokens file %s: client '%s': no policy '%s' in the config",
				      path, name, policy);
			goto out;
		}
		cl->name = strdup(name);
		cl->cert_cn = cn ? strdup(cn) : NULL;
		a->n_clients = i + 1;
		if (cl->name == NULL || (cn && cl->cert_cn == NULL)) {
			ret = err_set(err, ENOMEM, "tokens: out of memory");
			goto out;
		}
	}
out:
	json_decref(tokens);
	return ret;
}

int signd_auth_load(struct signd_auth **out, const char *config_path, const char *tokens_path,
		    err_t *err)
{
	struct signd_auth *a = calloc(1, sizeof(*a));
	int ret;

	if (a == NULL)
		return err_set(err, ENOMEM, "out of memory");
	a->refs = 1;
	ret = load_policies(a, config_path, err);
	if (ret == 0)
		ret = load_clients(a, tokens_path, err);
	if (ret < 0) {
		auth_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

static void token_hash(const char *token, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		memset(out, 0xff, 32); /* matches no stored hash of a real token */
}

const struct signd_client *signd_auth_lookup(const struct signd_auth *a, const char *token,
					     size_t len)
{
	const struct signd_client *found = NULL;
	uint8_t h[32];

	if (len == 0 || len > SIGND_TOKEN_MAX)
		return NULL;
	token_hash(token, len, h);
	/* Every entry, in constant time each: how far the scan got tells nothing. */
	for (size_t i = 0; i < a->n_clients; i++)
		if (CRYPTO_memcmp(h, a->clients[i].hash, 32) == 0 && a->clients[i].has_token)
			found = &a->clients[i];
	return found;
}

const struct signd_client *signd_auth_lookup_cn(const struct signd_auth *a, const char *cn)
{
	for (size_t i = 0; i < a->n_clients; i++)
		if (a->clients[i].cert_cn && strcmp(a->clients[i].cert_cn, cn) == 0)
			return &a->clients[i];
	return NULL;
}

/* ---- gen-token, revoke-token ---- */

/* The tokens file as JSON, or a new empty one if it does not exist. */
static int tokens_read(const char *path, json_t **out, err_t *err)
{
	json_t *clients;
	int ret;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*out = json_pack("{s:[]}", "clients");
		return *out ? 0 : err_set(err, ENOMEM, "out of memory");
	}
	ret = signd_load_json("tokens file", path, TOKENS_MAX, out, err);
	if (ret < 0)
		return ret;
	ret = tokens_clients(*out, path, &clients, err);
	if (ret < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return ret;
}

/* Replaces the file atomically: a temporary file (0600) beside it, then rename. */
static int tokens_write(const char *path, json_t *tokens, err_t *err)
{
	_cleanup_free_ char *tmp = NULL, *text = NULL;
	_cleanup_close_ int fd = -1;
	size_t len, off = 0;
	int ret;

	text = json_dumps(tokens, JSON_INDENT(2));
	if (text == NULL || asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return err_set(err, ENOMEM, "out of memory");
	len = strlen(text);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "tokens file %s: create %s", path, tmp);
	if (fchmod(fd, 0600) < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0 || rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	ret = err_sys(err, errno, "tokens file %s: write", path);
	unlink(tmp);
	return ret;
}

int signd_gen_token(const char *tokens_path, const char *name, const char *policy, time_t expires,
		    char **token, err_t *err)
{
	uint8_t raw[TOKEN_BYTES], h[32];
	char hex[2 * TOKEN_BYTES + 1], hhex[65];
	_cleanup_free_ char *tok = NULL;
	json_t *tokens = NULL, *clients, *c;
	size_t i;
	int ret;

	if (!signd_valid_name(name))
		return err_set(err, EINVAL, "client name '%s': use 1-64 of A-Z a-z 0-9 . _ @ -",
			       name);
	if (policy == NULL)
		policy = "default";
	if (!signd_valid_name(policy))
		return err_set(err, EINVAL, "policy name '%s': use 1-64 of A-Z a-z 0-9 . _ @ -",
			       policy);
	ret = tokens_read(tokens_path, &tokens, err);
	if (ret < 0)
		return ret;
	clients = json_object_get(tokens, "clients");
	json_array_foreach(clients, i, c)
	{
		json_t *n = json_object_get(c, "name");

		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0) {
			ret = err_set(err, EEXIST,
				      "tokens file %s: client '%s' exists (revoke-token it first)",
				      tokens_path, name);
			goto out;
		}
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		ret = err_sys(err, errno, "getrandom");
		goto out;
	}
	sgx_hex(raw, sizeof(raw), hex);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (asprintf(&tok, TOKEN_PREFIX "%s", hex) < 0) {
		ret = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	token_hash(tok, strlen(tok), h);
	sgx_hex(h, 32, hhex);
	c = json_pack("{s:s, s:s, s:s}", "name", name, "sha256", hhex, "policy", policy);
	if (c && expires) {
		char when[32];

		signd_format_time(expires, when, sizeof(when));
		if (json_object_set_new(c, "token_expires", json_string(when)) < 0) {
			json_decref(c);
			c = NULL;
		}
	}
	if (c == NULL || json_array_append_new(clients, c) < 0) {
		ret = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ret = tokens_write(tokens_path, tokens, err);
	if (ret == 0)
		*token = steal_ptr(tok);
out:
	json_decref(tokens);
	return ret;
}

int signd_add_cert_client(const char *tokens_path, const char *name, const char *cn,
			  const char *policy, err_t *err)
{
	json_t *tokens = NULL, *clients, *c, *found = NULL;
	size_t i;
	int ret;

	if (!signd_valid_name(name))
		return err_set(err, EINVAL, "client name '%s': use 1-64 of A-Z a-z 0-9 . _ @ -",
			       name);
	if (policy && !signd_valid_name(policy))
		return err_set(err, EINVAL, "policy name '%s': use 1-64 of A-Z a-z 0-9 . _ @ -",
			       policy);
	if (*cn == '\0' || strlen(cn) > 256)
		return err_set(err, EINVAL, "certificate CN: expected 1-256 characters");
	ret = tokens_read(tokens_path, &tokens, err);
	if (ret < 0)
		return ret;
	clients = json_object_get(tokens, "clients");
	json_array_foreach(clients, i, c)
	{
		const char *n = json_string_value(json_object_get(c, "name"));
		const char *ccn = json_string_value(json_object_get(c, "cert_cn"));

		if (ccn && strcmp(ccn, cn) == 0) {
			ret = err_set(err, EEXIST, "tokens file %s: client '%s' has CN '%s'",
				      tokens_path, n ? n : "?", cn);
			goto out;
		}
		if (n && strcmp(n, name) == 0)
			found = c;
	}
	if (found && json_object_get(found, "cert_cn")) {
		ret = err_set(err, EEXIST,
			      "tokens file %s: client '%s' has a certificate CN (revoke-token it "
			      "first)",
			      tokens_path, name);
		goto out;
	}
	if (found && policy) {
		const char *old = json_string_value(json_object_get(found, "policy"));

		if (strcmp(old ? old : "default", policy) != 0) {
			ret = err_set(err, EINVAL,
				      "tokens file %s: client '%s' has policy '%s', not '%s'",
				      tokens_path, name, old ? old : "default", policy);
			goto out;
		}
	}
	if (found) {
		/* A token client gets a certificate too. */
		ret = json_object_set_new(found, "cert_cn", json_string(cn)) < 0
			  ? err_set(err, ENOMEM, "out of memory")
			  : 0;
	} else {
		c = json_pack("{s:s, s:s, s:s}", "name", name, "cert_cn", cn, "policy",
			      policy ? policy : "default");
		ret = c == NULL || json_array_append_new(clients, c) < 0
			  ? err_set(err, ENOMEM, "out of memory")
			  : 0;
	}
	if (ret == 0)
		ret = tokens_write(tokens_path, tokens, err);
out:
	json_decref(tokens);
	return ret;
}

int signd_revoke_token(const char *tokens_path, const char *name, err_t *err)
{
	json_t *tokens = NULL, *clients, *c;
	size_t i;
	int ret;

	ret = tokens_read(tokens_path, &tokens, err);
	if (ret < 0)
		return ret;
	clients = json_object_get(tokens, "clients");
	json_array_foreach(clients, i, c)
	{
		json_t *n = json_object_get(c, "name");

		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
			break;
	}
	if (i == json_array_size(clients))
		ret = err_set(err, ENOENT, "tokens file %s: no client '%s'", tokens_path, name);
	else if (json_array_remove(clients, i) < 0)
		ret = err_set(err, ENOMEM, "out of memory");
	else
		ret = tokens_write(tokens_path, tokens, err);
	json_decref(tokens);
	return ret;
}
