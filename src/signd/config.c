/* SPDX-License-Identifier: Apache-2.0 */
/* rune-signd's configuration: the JSON file's keys (docs/signd.md), then the checks. */
#include "signd/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

#define CONFIG_MAX (1 << 20)

void signd_config_init(struct signd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->api_v1 = 1;
	c->max_body = SIGND_DEFAULT_MAX_BODY;
	c->timeout = SIGND_DEFAULT_TIMEOUT;
	c->max_connections = SIGND_DEFAULT_MAX_CONNECTIONS;
	c->per_ip = SIGND_DEFAULT_PER_IP;
	c->shutdown_grace = SIGND_DEFAULT_GRACE;
}

void signd_config_free(struct signd_config *c)
{
	free(c->config_path);
	free(c->listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->client_ca);
	free(c->client_crl);
	free(c->key_path);
	free(c->pkcs11_uri);
	free(c->pin_file);
	free(c->tokens_path);
	free(c->audit_path);
	memset(c, 0, sizeof(*c));
}

static int set_string(char **dst, const json_t *v, const char *what, err_t *err)
{
	char *s;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return err_set(err, EINVAL, "%s: expected a non-empty string", what);
	s = strdup(json_string_value(v));
	if (s == NULL)
		return err_set(err, ENOMEM, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static int set_bool(int *dst, const json_t *v, const char *what, err_t *err)
{
	if (!json_is_boolean(v))
		return err_set(err, EINVAL, "%s: expected true or false", what);
	*dst = json_is_true(v);
	return 0;
}

static int set_uint(unsigned *dst, const json_t *v, const char *what, unsigned min, unsigned max,
		    err_t *err)
{
	json_int_t i;

	if (!json_is_integer(v))
		return err_set(err, EINVAL, "%s: expected an integer", what);
	i = json_integer_value(v);
	if (i < (json_int_t)min || i > (json_int_t)max)
		return err_set(err, EINVAL, "%s: %" JSON_INTEGER_FORMAT " is not in %u..%u", what,
			       i, min, max);
	*dst = (unsigned)i;
	return 0;
}

static int load_tls(struct signd_config *c, const json_t *tls, err_t *err)
{
	const char *key;
	json_t *v;
	int ret;

	if (!json_is_object(tls))
		return err_set(err, EINVAL, "tls: expected an object");
	json_object_foreach((json_t *)tls, key, v)
	{
		if (strcmp(key, "cert") == 0)
			ret = set_string(&c->tls_cert, v, "tls.cert", err);
		else if (strcmp(key, "key") == 0)
			ret = set_string(&c->tls_key, v, "tls.key", err);
		else if (strcmp(key, "client_ca") == 0)
			ret = set_string(&c->client_ca, v, "tls.client_ca", err);
		else if (strcmp(key, "client_crl") == 0)
			ret = set_string(&c->client_crl, v, "tls.client_crl", err);
		else
			ret = err_set(err, EINVAL, "tls: unknown key '%s'", key);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int load_limits(struct signd_config *c, const json_t *lim, err_t *err)
{
	const char *key;
	unsigned body;
	json_t *v;
	int ret;

	if (!json_is_object(lim))
		return err_set(err, EINVAL, "limits: expected an object");
	json_object_foreach((json_t *)lim, key, v)
	{
		if (strcmp(key, "max_body_bytes") == 0) {
			ret = set_uint(&body, v, "limits.max_body_bytes", 256, 64 << 20, err);
			c->max_body = body;
		} else if (strcmp(key, "timeout_seconds") == 0)
			ret = set_uint(&c->timeout, v, "limits.timeout_seconds", 1, 3600, err);
		else if (strcmp(key, "threads") == 0)
			ret = set_uint(&c->threads, v, "limits.threads", 0, 1024, err);
		else if (strcmp(key, "max_connections") == 0)
			ret = set_uint(&c->max_connections, v, "limits.max_connections", 1, 65536,
				       err);
		else if (strcmp(key, "max_connections_per_ip") == 0)
			ret =
			    set_uint(&c->per_ip, v, "limits.max_connections_per_ip", 0, 65536, err);
		else if (strcmp(key, "shutdown_grace_seconds") == 0)
			ret = set_uint(&c->shutdown_grace, v, "limits.shutdown_grace_seconds", 0,
				       3600, err);
		else
			ret = err_set(err, EINVAL, "limits: unknown key '%s'", key);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int load_key(struct signd_config *c, const char *key, const json_t *v, err_t *err)
{
	if (strcmp(key, "listen") == 0)
		return set_string(&c->listen, v, key, err);
	if (strcmp(key, "tls") == 0)
		return load_tls(c, v, err);
	if (strcmp(key, "insecure_http") == 0)
		return set_bool(&c->insecure_http, v, key, err);
	if (strcmp(key, "signing_key") == 0)
		return set_string(&c->key_path, v, key, err);
	if (strcmp(key, "pkcs11_uri") == 0)
		return set_string(&c->pkcs11_uri, v, key, err);
	if (strcmp(key, "pin_file") == 0)
		return set_string(&c->pin_file, v, key, err);
	if (strcmp(key, "tokens") == 0)
		return set_string(&c->tokens_path, v, key, err);
	if (strcmp(key, "audit_log") == 0)
		return set_string(&c->audit_path, v, key, err);
	if (strcmp(key, "api_v1") == 0)
		return set_bool(&c->api_v1, v, key, err);
	if (strcmp(key, "limits") == 0)
		return load_limits(c, v, err);
	if (strcmp(key, "policies") == 0)
		return 0; /* read by the server, with the clients (signd_auth_load) */
	return err_set(err, EINVAL, "unknown key '%s'", key);
}

int signd_config_load(struct signd_config *c, const char *path, err_t *err)
{
	json_t *j = NULL, *v;
	const char *key;
	int ret = 0;

	ret = signd_load_json("config", path, CONFIG_MAX, &j, err);
	if (ret < 0)
		return ret;
	json_object_foreach(j, key, v)
	{
		ret = load_key(c, key, v, err);
		if (ret < 0) {
			err_wrap(err, "config %s", path);
			break;
		}
	}
	json_decref(j);
	if (ret == 0) {
		free(c->config_path);
		c->config_path = strdup(path);
		if (c->config_path == NULL)
			ret = err_set(err, ENOMEM, "out of memory");
	}
	return ret;
}

int signd_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, err_t *err)
{
	_cleanup_free_ char *host = NULL;
	const char *colon, *port_s;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (close == NULL || close[1] != ':')
			return err_set(err, EINVAL, "listen '%s': expected [IPV6]:PORT", listen);
		host = strndup(listen + 1, (size_t)(close - listen - 1));
		port_s = close + 2;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			return err_set(err, EINVAL, "listen '%s': expected ADDR:PORT", listen);
		host = strndup(listen, (size_t)(colon - listen));
		port_s = colon + 1;
	}
	if (host == NULL)
		return err_set(err, ENOMEM, "out of memory");
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (*port_s == '\0' || *end != '\0' || errno || port > 65535)
		return err_set(err, EINVAL, "listen '%s': bad port '%s'", listen, port_s);
	if (listen[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return err_set(err, EINVAL, "listen '%s': '%s' is not an IPv6 address",
				       listen, host);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return err_set(
			    err, EINVAL,
			    "listen '%s': '%s' is not an IPv4 address (IPv6: [ADDR]:PORT)", listen,
			    host);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	}
	return 0;
}

int signd_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		const uint8_t *b = s6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
	}
	return 0;
}

int signd_config_check(const struct signd_config *c, err_t *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int ret;

	if (c->listen == NULL)
		return err_set(err, EINVAL, "no listen address: --listen ADDR:PORT or \"listen\"");
	ret = signd_parse_listen(c->listen, &ss, &len, err);
	if (ret < 0)
		return ret;
	if (c->key_path == NULL && c->pkcs11_uri == NULL)
		return err_set(err, EINVAL,
			       "no signing key: --key PEM or \"signing_key\", or --pkcs11-uri URI "
			       "or \"pkcs11_uri\"");
	if (c->key_path && c->pkcs11_uri)
		return err_set(err, EINVAL,
			       "a PEM signing key and a PKCS#11 URI: choose one (a flag does not "
			       "unset the configuration's other key)");
	if (c->pin_file && c->pkcs11_uri == NULL)
		return err_set(err, EINVAL, "a PIN file without a PKCS#11 URI");
	if (c->tokens_path == NULL)
		return err_set(
		    err, EINVAL,
		    "no clients: --tokens FILE or \"tokens\" (rune-signd gen-token makes one)");
	if (c->audit_path == NULL)
		return err_set(
		    err, EINVAL,
		    "no audit log: --audit-log FILE or \"audit_log\" (\"-\": standard error)");
	if (!!c->tls_cert != !!c->tls_key)
		return err_set(err, EINVAL, "TLS needs both a certificate and its key");
	if (c->client_ca && c->tls_cert == NULL)
		return err_set(
		    err, EINVAL,
		    "client certificates (--client-ca) need TLS: --tls-cert F --tls-key F");
	if (c->client_crl && c->client_ca == NULL)
		return err_set(
		    err, EINVAL,
		    "a client CRL (--client-crl) needs the CA it is from: --client-ca F");
	if (c->insecure_http) {
		if (c->tls_cert)
			return err_set(err, EINVAL,
				       "insecure HTTP and a TLS certificate: choose one");
		if (!signd_is_loopback(&ss))
			return err_set(err, EPERM,
				       "insecure HTTP on %s refused: only on a loopback address "
				       "(127.0.0.0/8, [::1])",
				       c->listen);
	} else if (c->tls_cert == NULL) {
		return err_set(err, EINVAL,
			       "no TLS certificate: --tls-cert F --tls-key F (or \"tls\"), or "
			       "--insecure-http on a loopback address");
	}
	return 0;
}
