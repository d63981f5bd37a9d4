/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libsignd's pure parts: policy decisions (masks included: a bit the mask
 * leaves free is one the enclave may run with), policy and configuration
 * parsing and their refusals, trusted-file checks, the tokens file
 * (gen-token, lookup, revoke), and libsgx's signer against a one-shot sign.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "common/cleanup.h"
#include "sgx/fileio.h"
#include "signd/internal.h"

static char dir[] = "/tmp/signd-unit.XXXXXX";

static char *path(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void write_file(const char *name, const char *text, int mode)
{
	int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		fchmod(fd, (mode_t)mode);
		close(fd);
	}
}

static void material(struct sgx_sigstruct *ss, uint64_t attrs, uint64_t amask, uint16_t prodid,
		     uint16_t svn)
{
	struct sgx_sign_opts o;
	uint8_t mr[32];

	memset(mr, 0xab, sizeof(mr));
	sgx_sign_opts_default(&o);
	o.attributes = attrs;
	o.attributes_mask = amask;
	o.isvprodid = prodid;
	o.isvsvn = svn;
	sgx_sigstruct_init(ss, &o, mr);
}

static int parse(struct signd_policy *p, const char *json, err_t *err)
{
	json_t *j = json_loads(json, 0, NULL);
	int ret = signd_policy_parse(p, "p", j, err);

	json_decref(j);
	return ret;
}

static void test_default_policy(void)
{
	_cleanup_error_ err_t err = NULL;
	struct signd_policy p;
	struct sgx_sigstruct ss;

	CHECK(signd_policy_default(&p, &err) == 0);
	material(&ss, SGX_ATTR_MODE64BIT, ~0ULL, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == 0, "%s", err_msg(err));
	material(&ss, SGX_ATTR_MODE64BIT | SGX_ATTR_DEBUG, ~0ULL, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "DEBUG enclave"), "%s", err_msg(err));
	err_free(&err);
	/* DEBUG clear but left out of the mask: the enclave could still run in DEBUG mode. */
	material(&ss, SGX_ATTR_MODE64BIT, ~SGX_ATTR_DEBUG, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "leaves DEBUG free"), "%s", err_msg(err));
	err_free(&err);
	/* Other bits free under the mask: fine for the default policy. */
	material(&ss, SGX_ATTR_MODE64BIT, SGX_ATTR_DEBUG, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == 0, "%s", err_msg(err));
	signd_policy_free(&p);
}

static void test_policy_fields(void)
{
	_cleanup_error_ err_t err = NULL;
	struct signd_policy p;
	struct sgx_sigstruct ss;
	char json[512];

	CHECK(parse(&p, "{\"isvprodid\": [1, 7], \"isvsvn_min\": 2, \"isvsvn_max\": 5}", &err) == 0,
	      "%s", err_msg(err));
	material(&ss, SGX_ATTR_MODE64BIT, ~0ULL, 7, 2);
	CHECK(signd_policy_check(&p, &ss, &err) == 0, "%s", err_msg(err));
	material(&ss, SGX_ATTR_MODE64BIT, ~0ULL, 2, 3);
	CHECK(signd_policy_check(&p, &ss, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "ISVPRODID 2"), "%s", err_msg(err));
	err_free(&err);
	material(&ss, SGX_ATTR_MODE64BIT, ~0ULL, 1, 6);
	CHECK(signd_policy_check(&p, &ss, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "ISVSVN 6 is outside the range 2-5"), "%s", err_msg(err));
	err_free(&err);
	signd_policy_free(&p);

	/* DEBUG allowed; PROVISIONKEY not (it must be fixed to 0 by the mask). */
	CHECK(parse(&p, "{\"allow_debug\": true, \"attributes_allowed\": \"0xffffffffffffffef\"}",
		    &err) == 0,
	      "%s", err_msg(err));
	material(&ss, SGX_ATTR_MODE64BIT | SGX_ATTR_DEBUG, ~0ULL, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == 0, "%s", err_msg(err));
	material(&ss, SGX_ATTR_MODE64BIT, ~SGX_ATTR_PROVISIONKEY, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "allow bits 0x10"), "%s", err_msg(err));
	err_free(&err);
	signd_policy_free(&p);

	/* xfrm: AVX (bit 2) may not be used; the default mask 0x3 leaves it free. */
	CHECK(parse(&p, "{\"xfrm_allowed\": 3}", &err) == 0, "%s", err_msg(err));
	material(&ss, SGX_ATTR_MODE64BIT, ~0ULL, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "xfrm 0x3 under mask 0x3"), "%s", err_msg(err));
	err_free(&err);
	ss.body.xfrm_mask = ~0ULL;
	CHECK(signd_policy_check(&p, &ss, &err) == 0, "%s", err_msg(err));
	signd_policy_free(&p);

	snprintf(json, sizeof(json), "{\"mrenclave\": [\"%064d\", \"%s\"]}", 0,
		 "abababababababababababababababababababababababababababababababab");
	CHECK(parse(&p, json, &err) == 0, "%s", err_msg(err));
	material(&ss, SGX_ATTR_MODE64BIT, ~0ULL, 0, 0);
	CHECK(signd_policy_check(&p, &ss, &err) == 0, "%s", err_msg(err));
	ss.body.enclavehash[0] = 0;
	CHECK(signd_policy_check(&p, &ss, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "is not in the list"), "%s", err_msg(err));
	err_free(&err);
	signd_policy_free(&p);
}

static void test_policy_refusals(void)
{
	static const char *const bad[] = {
		"{\"allow_debug\": 1}",
		"{\"isvprodid\": []}",
		"{\"isvprodid\": [70000]}",
		"{\"isvsvn_min\": 5, \"isvsvn_max\": 4}",
		"{\"attributes_allowed\": \"0xzz\"}",
		"{\"attributes_allowed\": -1}",
		"{\"mrenclave\": [\"abc\"]}",
		"{\"allow_debugg\": false}",
		"[]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_error_ err_t err = NULL;
		struct signd_policy p;

		CHECK(parse(&p, bad[i], &err) < 0, "accepted %s", bad[i]);
		CHECK(err && strstr(err_msg(err), "policy 'p'"), "%s: %s", bad[i], err_msg(err));
	}
}

static void test_trusted_files(void)
{
	_cleanup_error_ err_t err = NULL;
	char *buf = NULL;
	size_t len;

	write_file("ok.json", "{}", 0644);
	CHECK(signd_read_trusted("x", path("ok.json"), 0, 100, &buf, &len, &err) == 0);
	CHECK(len == 2 && strcmp(buf, "{}") == 0);
	free(buf);
	CHECK(signd_read_trusted("x", path("ok.json"), 1, 100, &buf, &len, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "readable by group or others"), "%s", err_msg(err));
	err_free(&err);
	write_file("ww.json", "{}", 0602);
	CHECK(signd_read_trusted("x", path("ww.json"), 0, 100, &buf, &len, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "writable by group or others"), "%s", err_msg(err));
	err_free(&err);
	if (geteuid() == 0) {
		CHECK(chown(path("ok.json"), 65534, 65534) == 0);
		CHECK(signd_read_trusted("x", path("ok.json"), 0, 100, &buf, &len, &err) == -EPERM);
		CHECK(err && strstr(err_msg(err), "owned by uid 65534"), "%s", err_msg(err));
		err_free(&err);
	}
	CHECK(signd_read_trusted("x", path("ok.json"), 0, 1, &buf, &len, &err) < 0);
	err_free(&err);
	CHECK(mkfifo(path("fifo"), 0600) == 0);
	CHECK(signd_read_trusted("x", path("fifo"), 0, 100, &buf, &len, &err) == -EINVAL);
	CHECK(err && strstr(err_msg(err), "not a regular file"), "%s", err_msg(err));
}

static void test_tokens(void)
{
	_cleanup_error_ err_t err = NULL;
	char *a = NULL, *b = NULL;
	struct signd_auth *auth = NULL;
	const struct signd_client *c;
	struct stat st;

	write_file("conf.json", "{\"policies\": {\"strict\": {\"isvprodid\": [1]}}}", 0600);
	CHECK(signd_gen_token(path("tokens.json"), "alice", NULL, 0, &a, &err) == 0, "%s",
	      err_msg(err));
	CHECK(signd_gen_token(path("tokens.json"), "bob", "strict", 0, &b, &err) == 0, "%s",
	      err_msg(err));
	CHECK(stat(path("tokens.json"), &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(signd_gen_token(path("tokens.json"), "bob", NULL, 0, &b, &err) == -EEXIST);
	err_free(&err);
	CHECK(signd_gen_token(path("tokens.json"), "bad name", NULL, 0, &b, &err) == -EINVAL);
	err_free(&err);
	CHECK(a && b && strncmp(a, "signd_", 6) == 0 && strlen(a) == 70);
	if (!a || !b)
		return;
	CHECK(signd_auth_load(&auth, path("conf.json"), path("tokens.json"), &err) == 0, "%s",
	      err_msg(err));
	if (auth) {
		c = signd_auth_lookup(auth, a, strlen(a));
		CHECK(c && strcmp(c->name, "alice") == 0 &&
		      strcmp(c->policy->name, "default") == 0);
		c = signd_auth_lookup(auth, b, strlen(b));
		CHECK(c && strcmp(c->name, "bob") == 0 && strcmp(c->policy->name, "strict") == 0);
		CHECK(signd_auth_lookup(auth, a, strlen(a) - 1) == NULL);
		CHECK(signd_auth_lookup(auth, "", 0) == NULL);
		signd_auth_put(auth);
		auth = NULL;
	}
	/* Without the config, "strict" does not exist: refused, with the client named. */
	CHECK(signd_auth_load(&auth, NULL, path("tokens.json"), &err) < 0);
	CHECK(err && strstr(err_msg(err), "client 'bob': no policy 'strict'"), "%s", err_msg(err));
	err_free(&err);
	CHECK(signd_revoke_token(path("tokens.json"), "bob", &err) == 0, "%s", err_msg(err));
	CHECK(signd_revoke_token(path("tokens.json"), "bob", &err) == -ENOENT);
	err_free(&err);
	CHECK(signd_auth_load(&auth, NULL, path("tokens.json"), &err) == 0, "%s", err_msg(err));
	if (auth) {
		CHECK(auth->n_clients == 1 && signd_auth_lookup(auth, b, strlen(b)) == NULL);
		signd_auth_put(auth);
	}
	/* Garbage in the tokens file: refused with the file named. */
	write_file("garbage.json", "{\"clients\": [{\"name\": \"x\", \"sha256\": \"00\"}]}", 0600);
	CHECK(signd_auth_load(&auth, NULL, path("garbage.json"), &err) < 0);
	CHECK(err && strstr(err_msg(err), "sha256: expected 64 hex digits"), "%s", err_msg(err));
	free(a);
	free(b);
}

/* Clients by certificate: looked up by CN only, never by a token. */
static void test_cert_clients(void)
{
	_cleanup_error_ err_t err = NULL;
	struct signd_auth *auth = NULL;
	const struct signd_client *c;
	char *tok = NULL;

	write_file("certs.json",
		   "{\"clients\": [{\"name\": \"alice\", \"cert_cn\": \"alice.example\"}]}", 0600);
	CHECK(signd_gen_token(path("certs.json"), "ci", NULL, 0, &tok, &err) == 0, "%s",
	      err_msg(err));
	CHECK(signd_auth_load(&auth, NULL, path("certs.json"), &err) == 0, "%s", err_msg(err));
	if (auth && tok) {
		c = signd_auth_lookup_cn(auth, "alice.example");
		CHECK(c && strcmp(c->name, "alice") == 0 && !c->has_token);
		CHECK(signd_auth_lookup_cn(auth, "alice.exampl") == NULL);
		CHECK(signd_auth_lookup_cn(auth, "ALICE.EXAMPLE") == NULL);
		c = signd_auth_lookup(auth, tok, strlen(tok));
		CHECK(c && strcmp(c->name, "ci") == 0 && c->cert_cn == NULL);
		signd_auth_put(auth);
	}
	free(tok);
	/* add-client: a new client, a certificate for a token client, no shared CN. */
	CHECK(signd_add_cert_client(path("certs.json"), "bob", "bob.example", NULL, &err) == 0,
	      "%s", err_msg(err));
	CHECK(signd_add_cert_client(path("certs.json"), "ci", "x.example", "strict", &err) ==
	      -EINVAL);
	err_free(&err);
	CHECK(signd_add_cert_client(path("certs.json"), "ci", "ci.example", NULL, &err) == 0, "%s",
	      err_msg(err));
	CHECK(signd_add_cert_client(path("certs.json"), "eve", "bob.example", NULL, &err) ==
	      -EEXIST);
	err_free(&err);
	CHECK(signd_add_cert_client(path("certs.json"), "ci", "other.example", NULL, &err) ==
	      -EEXIST);
	err_free(&err);
	CHECK(signd_auth_load(&auth, NULL, path("certs.json"), &err) == 0, "%s", err_msg(err));
	if (auth) {
		c = signd_auth_lookup_cn(auth, "ci.example");
		CHECK(c && strcmp(c->name, "ci") == 0 && c->has_token);
		c = signd_auth_lookup_cn(auth, "bob.example");
		CHECK(c && strcmp(c->name, "bob") == 0 && !c->has_token);
		signd_auth_put(auth);
		auth = NULL;
	}
	write_file("certs-bad.json", "{\"clients\": [{\"name\": \"x\", \"cert_cn\": \"\"}]}", 0600);
	CHECK(signd_auth_load(&auth, NULL, path("certs-bad.json"), &err) == -EINVAL);
	CHECK(err && strstr(err_msg(err), "cert_cn: expected"), "%s", err_msg(err));
}

static void test_expiry(void)
{
	_cleanup_error_ err_t err = NULL;
	const time_t now = 1800000000; /* 2027-01-15T08:00:00Z */
	time_t t = 0;

	CHECK(signd_parse_expiry("30d", now, &t, &err) == 0 && t == now + 30 * 86400);
	CHECK(signd_parse_expiry("12h", now, &t, &err) == 0 && t == now + 12 * 3600);
	CHECK(signd_parse_expiry("90s", now, &t, &err) == 0 && t == now + 90);
	CHECK(signd_parse_expiry("2027-02-01", now, &t, &err) == 0 && t == 1801440000);
	CHECK(signd_parse_expiry("2027-01-15T08:00:01Z", now, &t, &err) == 0 && t == now + 1);
	CHECK(signd_parse_expiry("2027-01-15T08:00:00Z", now, &t, &err) == -EINVAL);
	CHECK(signd_parse_expiry("0d", now, &t, &err) == -EINVAL);
	CHECK(signd_parse_expiry("-1d", now, &t, &err) == -EINVAL);
	CHECK(signd_parse_expiry("5w", now, &t, &err) == -EINVAL);
	CHECK(signd_parse_expiry("2027-01-15T08:00:01", now, &t, &err) == -EINVAL);
	CHECK(signd_parse_expiry("2027-01-15 ", now, &t, &err) == -EINVAL);
	CHECK(signd_parse_expiry("", now, &t, &err) == -EINVAL);
}

static void test_config(void)
{
	_cleanup_error_ err_t err = NULL;
	struct signd_config c;

	write_file("c1.json",
		   "{\"listen\": \"127.0.0.1:0\", \"insecure_http\": true, \"signing_key\": \"k\","
		   " \"tokens\": \"t\", \"audit_log\": \"-\", \"api_v1\": false,"
		   " \"limits\": {\"max_body_bytes\": 1024, \"timeout_seconds\": 5}}",
		   0600);
	signd_config_init(&c);
	CHECK(signd_config_load(&c, path("c1.json"), &err) == 0, "%s", err_msg(err));
	CHECK(c.api_v1 == 0 && c.max_body == 1024 && c.timeout == 5 && c.insecure_http);
	CHECK(signd_config_check(&c, &err) == 0, "%s", err_msg(err));
	free(c.listen);
	c.listen = strdup("10.0.0.1:8443");
	CHECK(signd_config_check(&c, &err) == -EPERM);
	CHECK(err && strstr(err_msg(err), "only on a loopback address"), "%s", err_msg(err));
	err_free(&err);
	free(c.listen);
	c.listen = strdup("[::1]:8443");
	CHECK(signd_config_check(&c, &err) == 0, "%s", err_msg(err));
	c.insecure_http = 0;
	CHECK(signd_config_check(&c, &err) < 0);
	CHECK(err && strstr(err_msg(err), "no TLS certificate"), "%s", err_msg(err));
	err_free(&err);
	signd_config_free(&c);

	signd_config_init(&c);
	write_file("c2.json", "{\"listen\": \"127.0.0.1:0\", \"tsl\": {}}", 0600);
	CHECK(signd_config_load(&c, path("c2.json"), &err) < 0);
	CHECK(err && strstr(err_msg(err), "unknown key 'tsl'"), "%s", err_msg(err));
	err_free(&err);
	write_file("c3.json", "{\"listen\": ", 0600);
	CHECK(signd_config_load(&c, path("c3.json"), &err) < 0);
	CHECK(err && strstr(err_msg(err), "c3.json: line"), "%s", err_msg(err));
	err_free(&err);
	write_file("c4.json", "{\"listen\": \"localhost:80\"}", 0600);
	CHECK(signd_config_load(&c, path("c4.json"), &err) == 0);
	CHECK(signd_config_check(&c, &err) < 0);
	CHECK(err && strstr(err_msg(err), "not an IPv4 address"), "%s", err_msg(err));
	signd_config_free(&c);
}

static void test_signer(void)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ void *pem = NULL;
	struct sgx_signer *s = NULL;
	struct sgx_sigstruct a, b;
	size_t len;

	CHECK(sgx_key_generate(path("key.pem"), &err) == 0, "%s", err_msg(err));
	CHECK(sgx_read_file(path("key.pem"), 1 << 20, &pem, &len, &err) == 0);
	CHECK(sgx_signer_load(&s, pem, len, &err) == 0, "%s", err_msg(err));
	if (s == NULL)
		return;
	material(&a, SGX_ATTR_MODE64BIT, ~0ULL, 3, 4);
	b = a;
	CHECK(sgx_sigstruct_sign(&a, pem, len, &err) == 0, "%s", err_msg(err));
	CHECK(sgx_signer_sign_sigstruct(s, &b, &err) == 0, "%s", err_msg(err));
	CHECK(memcmp(&a, &b, sizeof(a)) == 0, "the signer and a one-shot sign differ");
	CHECK(strstr(sgx_signer_public_pem(s, &len), "BEGIN PUBLIC KEY") && len > 500);
	sgx_signer_free(s);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	TAP_RUN(test_default_policy);
	TAP_RUN(test_policy_fields);
	TAP_RUN(test_policy_refusals);
	TAP_RUN(test_trusted_files);
	TAP_RUN(test_tokens);
	TAP_RUN(test_cert_clients);
	TAP_RUN(test_expiry);
	TAP_RUN(test_config);
	TAP_RUN(test_signer);
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_exit();
}
