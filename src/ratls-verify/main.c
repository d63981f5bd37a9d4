// SPDX-License-Identifier: Apache-2.0
/*
 * ratls-verify HOST:PORT: a TLS handshake with an RA-TLS server, its
 * certificate verified by libratls (quote, key binding, TCB, policy), the
 * enclave's identity printed. Default policy: authentic and not DEBUG.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "common/error.h"
#include "ratls/ratls.h"
#include "sgx/fileio.h"

static const char usage[] =
    "Usage: ratls-verify [--policy FILE] [--root-ca PEM] [--collateral DIR]\n"
    "                    [--timeout SECONDS] [--json] HOST:PORT\n"
    "       ratls-verify [OPTIONS] --cert PEM\n"
    "Connects with TLS to HOST:PORT, verifies the server's RA-TLS certificate\n"
    "(its quote, in the TCG DICE or the Intel/Gramine legacy extension, and the\n"
    "report data binding the certificate's key), and prints the enclave's\n"
    "identity. The quote must chain to the Intel SGX Root CA (built in) or to\n"
    "the root CA given; --collateral DIR checks the TCB status (see\n"
    "sgx-tools verify-quote --help). The policy FILE (JSON: mrenclave,\n"
    "mrsigner, isvprodid, min_isvsvn, allow_debug, tcb_status) says what the\n"
    "enclave must be; without it, any authentic enclave but a DEBUG one.\n"
    "--cert verifies a certificate file (PEM) the same way, offline.\n"
    "Exit status: 0 verified, 1 refused or unreachable, 2 a usage error.\n";

static int split_host(char *arg, char **host, char **port)
{
	char *colon = strrchr(arg, ':');

	if (!colon || colon == arg || !colon[1])
		return -1;
	*colon = 0;
	*host = arg;
	*port = colon + 1;
	if (**host == '[' && colon[-1] == ']') { /* [IPv6]:port */
		colon[-1] = 0;
		(*host)++;
	}
	return 0;
}

static int tcp_connect(const char *host, const char *port, int secs, err_t *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = secs };
	int fd = -1, rc, saved = 0;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		return err_set(err, EINVAL, "%s:%s: %s", host, port, gai_strerror(rc));
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		/* Bounded waits: connect, the handshake, every read. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_sys(err, saved == EINPROGRESS ? ETIMEDOUT : saved, "connect to %s:%s",
			       host, port);
	return fd;
}

static int handshake(int fd, struct ratls_verifier *v, const char *target, err_t *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int ret = 0;
	unsigned long e;

	if (ctx)
		ratls_ssl_ctx_verify_peer(ctx, v);
	if (!ctx || !(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, fd)) {
		ret = err_set(err, ENOMEM, "%s: OpenSSL failed", target);
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		if (v->err) {
			ret = err_set(err, v->err->code ? v->err->code : EBADMSG, "%s: %s", target,
				      err_msg(v->err));
		} else {
			e = ERR_peek_error();
			ret = err_set(err, EPROTO, "%s: TLS handshake failed: %s", target,
				      e ? ERR_reason_error_string(e) : "the connection closed");
		}
		goto out;
	}
	if (!v->verified)
		ret = err_set(err, EBADMSG, "%s: the peer's certificate was not verified", target);
	SSL_shutdown(ssl);
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return ret;
}

/* --cert: the same checks on a certificate file. */
static int verify_file(const char *path, struct ratls_verifier *v, err_t *err)
{
	FILE *f = fopen(path, "r");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int ret;

	if (f)
		fclose(f);
	ERR_clear_error();
	if (!f)
		return err_sys(err, errno, "certificate %s", path);
	if (!c)
		return err_set(err, EINVAL, "certificate %s: not a PEM certificate", path);
	ret = ratls_cert_verify(c, &v->trust, &v->policy, &v->id, &v->err);
	X509_free(c);
	if (ret < 0)
		return err_set(err, -ret, "%s: %s", path, err_msg(v->err));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "policy", required_argument, NULL, 'p' },
					      { "root-ca", required_argument, NULL, 'r' },
					      { "collateral", required_argument, NULL, 'c' },
					      { "timeout", required_argument, NULL, 't' },
					      { "json", no_argument, NULL, 'j' },
					      { "cert", required_argument, NULL, 'C' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	const char *policy = NULL, *root_ca = NULL, *collateral = NULL, *cert = NULL;
	struct ratls_collateral *coll = NULL;
	struct ratls_verifier v = { 0 };
	char *host, *port, *target;
	void *root = NULL;
	size_t root_len = 0;
	int c, json = 0, secs = 10, fd, ret = 0;
	err_t err = NULL;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy = optarg;
			break;
		case 'r':
			root_ca = optarg;
			break;
		case 'c':
			collateral = optarg;
			break;
		case 't':
			secs = atoi(optarg);
			if (secs < 1 || secs > 3600) {
				fprintf(stderr,
					"ratls-verify: --timeout %s: not 1 to 3600 seconds\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (cert && optind == argc) {
		target = strdup(cert);
		host = port = NULL;
	} else if (!cert && optind == argc - 1) {
		target = strdup(argv[optind]);
		if (target && split_host(argv[optind], &host, &port) < 0) {
			fprintf(stderr, "ratls-verify: %s: the target is not HOST:PORT\n", target);
			free(target);
			return 2;
		}
	} else {
		fprintf(stderr, "ratls-verify: one HOST:PORT or --cert PEM expected\n%s", usage);
		return 2;
	}
	if (!target) {
		fprintf(stderr, "ratls-verify: out of memory\n");
		return 1;
	}
	ratls_policy_default(&v.policy);
	if (policy)
		ret = ratls_policy_load(policy, &v.policy, &err);
	if (!ret && root_ca) {
		ret = sgx_read_file(root_ca, 1 << 20, &root, &root_len, &err);
		if (ret < 0)
			err_wrap(&err, "root CA");
		v.trust.root_pem = root;
		v.trust.root_pem_len = root_len;
	}
	if (!ret && collateral) {
		ret = ratls_collateral_load(collateral, &coll, &err);
		v.trust.collateral = coll;
	}
	if (!ret && cert) {
		ret = verify_file(cert, &v, &err);
	} else if (!ret) {
		fd = tcp_connect(host, port, secs, &err);
		ret = fd < 0 ? fd : handshake(fd, &v, target, &err);
		if (fd >= 0)
			close(fd);
	}
	if (ret < 0) {
		fprintf(stderr, "ratls-verify: %s\n", err_msg(err));
		if (json && v.err)
			ratls_refusal_print_json(stdout, err_msg(v.err));
	} else {
		ratls_identity_print(stdout, &v.id, json);
	}
	err_free(&err);
	err_free(&v.err);
	ratls_collateral_free(coll);
	free(root);
	free(target);
	return ret < 0 ? 1 : 0;
}
