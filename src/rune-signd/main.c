/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune-signd: the enclave signature service. A thin main over libsignd:
 * options (over the configuration file's keys), then the server, driven by
 * signals: SIGHUP reloads clients and policies, SIGTERM/SIGINT stop it
 * gracefully. gen-token and revoke-token edit the tokens file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "signd/signd.h"
#include "rune-build.h"

static const char usage[] =
    "Usage: rune-signd [--config FILE] [OPTIONS]     the signature service\n"
    "       rune-signd gen-token NAME [--policy P] [--expires WHEN] --tokens FILE\n"
    "       rune-signd add-client NAME --cert-cn CN [--policy P] --tokens FILE\n"
    "       rune-signd revoke-token NAME --tokens FILE\n"
    "Signs SGX enclaves (SIGSTRUCTs) for authenticated clients under a policy.\n"
    "Options (each overrides the configuration file's key; see docs/signd.md):\n"
    "  --config FILE        JSON configuration (root-owned, writable by root only)\n"
    "  --listen ADDR:PORT   numeric address ([::1]:PORT for IPv6); port 0: any free one\n"
    "  --key PEM            the signing key: RSA-3072, exponent 3, mode 0600\n"
    "  --pkcs11-uri URI     or a key on a PKCS#11 token (pkcs11:token=T;object=K;...)\n"
    "  --pin-file F         the token's PIN (else the URI's pin-source=file:F)\n"
    "  --tls-cert F --tls-key F   serve HTTPS with this certificate and key\n"
    "  --client-ca F        accept client certificates issued by this CA (mTLS)\n"
    "  --client-crl F       refuse the client certificates these CRLs revoke (PEM)\n"
    "  --insecure-http      plain HTTP instead: refused unless ADDR is loopback\n"
    "  --tokens FILE        the clients: names, token hashes, policies (gen-token)\n"
    "  --audit-log FILE     one JSON line per request ('-': standard error)\n"
    "  --no-api-v1          disable POST /api/v1/signature/pkcs1\n"
    "  --max-body BYTES     request body limit [65536]\n"
    "  --timeout SECONDS    idle connection timeout [30]\n"
    "  --threads N          worker threads [one per CPU]\n"
    "  --max-connections N  [256]\n"
    "  --version, --help\n"
    "gen-token --expires WHEN: Nd, Nh, Nm, Ns from now, YYYY-MM-DD or\n"
    "  YYYY-MM-DDTHH:MM:SSZ (UTC); the token is refused (401) from then on.\n";

enum {
	OPT_CONFIG = 256,
	OPT_LISTEN,
	OPT_KEY,
	OPT_PKCS11_URI,
	OPT_PIN_FILE,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_CLIENT_CA,
	OPT_CLIENT_CRL,
	OPT_INSECURE,
	OPT_TOKENS,
	OPT_AUDIT,
	OPT_NO_V1,
	OPT_MAX_BODY,
	OPT_TIMEOUT,
	OPT_THREADS,
	OPT_MAX_CONN,
	OPT_POLICY,
	OPT_CERT_CN,
	OPT_EXPIRES,
	OPT_VERSION,
	OPT_HELP,
};

static const struct option options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "pkcs11-uri", required_argument, NULL, OPT_PKCS11_URI },
	{ "pin-file", required_argument, NULL, OPT_PIN_FILE },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "client-ca", required_argument, NULL, OPT_CLIENT_CA },
	{ "client-crl", required_argument, NULL, OPT_CLIENT_CRL },
	{ "insecure-http", no_argument, NULL, OPT_INSECURE },
	{ "tokens", required_argument, NULL, OPT_TOKENS },
	{ "audit-log", required_argument, NULL, OPT_AUDIT },
	{ "no-api-v1", no_argument, NULL, OPT_NO_V1 },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "cert-cn", required_argument, NULL, OPT_CERT_CN },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
};

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
	va_list ap;

	fputs("rune-signd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int number(const char *name, const char *s, unsigned long min, unsigned long max,
		  unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end || errno || *out < min || *out > max) {
		die("--%s: '%s' is not a number in %lu..%lu", name, s, min, max);
		return -1;
	}
	return 0;
}

static int set(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

/* Applies one option to the configuration: 0, or -1 after an error message. */
static int apply(struct signd_config *c, int opt, const char *arg)
{
	unsigned long v;

	switch (opt) {
	case OPT_LISTEN:
		return set(&c->listen, arg);
	case OPT_KEY:
		return set(&c->key_path, arg);
	case OPT_PKCS11_URI:
		return set(&c->pkcs11_uri, arg);
	case OPT_PIN_FILE:
		return set(&c->pin_file, arg);
	case OPT_TLS_CERT:
		return set(&c->tls_cert, arg);
	case OPT_TLS_KEY:
		return set(&c->tls_key, arg);
	case OPT_CLIENT_CA:
		return set(&c->client_ca, arg);
	case OPT_CLIENT_CRL:
		return set(&c->client_crl, arg);
	case OPT_INSECURE:
		c->insecure_http = 1;
		return 0;
	case OPT_TOKENS:
		return set(&c->tokens_path, arg);
	case OPT_AUDIT:
		return set(&c->audit_path, arg);
	case OPT_NO_V1:
		c->api_v1 = 0;
		return 0;
	case OPT_MAX_BODY:
		if (number("max-body", arg, 256, 64ul << 20, &v) < 0)
			return -1;
		c->max_body = v;
		return 0;
	case OPT_TIMEOUT:
		if (number("timeout", arg, 1, 3600, &v) < 0)
			return -1;
		c->timeout = (unsigned)v;
		return 0;
	case OPT_THREADS:
		if (number("threads", arg, 0, 1024, &v) < 0)
			return -1;
		c->threads = (unsigned)v;
		return 0;
	case OPT_MAX_CONN:
		if (number("max-connections", arg, 1, 65536, &v) < 0)
			return -1;
		c->max_connections = (unsigned)v;
		return 0;
	}
	return 0;
}

enum token_cmd { CMD_GEN, CMD_REVOKE, CMD_ADD_CLIENT };

/*
 * gen-token NAME [--policy P] [--expires WHEN] --tokens F, revoke-token NAME --tokens F,
 * add-client NAME --cert-cn CN [--policy P] --tokens F
 */
static int token_command(enum token_cmd which, int argc, char **argv)
{
	const char *cmd = which == CMD_GEN	? "gen-token"
			  : which == CMD_REVOKE ? "revoke-token"
						: "add-client";
	const char *tokens = NULL, *policy = NULL, *name = NULL, *cn = NULL, *expiry = NULL;
	_cleanup_error_ err_t err = NULL;
	time_t expires = 0;
	char *token = NULL;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (opt == OPT_TOKENS)
			tokens = optarg;
		else if (opt == OPT_POLICY && which != CMD_REVOKE)
			policy = optarg;
		else if (opt == OPT_CERT_CN && which == CMD_ADD_CLIENT)
			cn = optarg;
		else if (opt == OPT_EXPIRES && which == CMD_GEN)
			expiry = optarg;
		else if (opt == OPT_HELP || opt == 'h') {
			fputs(usage, stdout);
			return 0;
		} else
			return die("%s: unknown option '%s' (see --help)", cmd, argv[optind - 1]);
	}
	if (optind != argc - 1)
		return die("%s: expected one client NAME (see --help)", cmd);
	name = argv[optind];
	if (tokens == NULL)
		return die("%s: --tokens FILE is required", cmd);
	switch (which) {
	case CMD_GEN:
		if (expiry && signd_parse_expiry(expiry, time(NULL), &expires, &err) < 0)
			return die("%s: --expires: %s", cmd, err_msg(err));
		if (signd_gen_token(tokens, name, policy, expires, &token, &err) < 0)
			return die("%s: %s", cmd, err_msg(err));
		/* The token, once, and nothing else on stdout. */
		printf("%s\n", token);
		fflush(stdout);
		explicit_bzero(token, strlen(token));
		free(token);
		return 0;
	case CMD_ADD_CLIENT:
		if (cn == NULL)
			return die("%s: --cert-cn CN is required", cmd);
		if (signd_add_cert_client(tokens, name, cn, policy, &err) < 0)
			return die("%s: %s", cmd, err_msg(err));
		return 0;
	case CMD_REVOKE:
		break;
	}
	if (signd_revoke_token(tokens, name, &err) < 0)
		return die("%s: %s", cmd, err_msg(err));
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_error_ err_t err = NULL;
	struct signd_server *server = NULL;
	struct signd_config cfg;
	const char *config = NULL;
	sigset_t sigs;
	int opt, sig, ret = 0;

	if (argc > 1 && strcmp(argv[1], "gen-token") == 0)
		return token_command(CMD_GEN, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "revoke-token") == 0)
		return token_command(CMD_REVOKE, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "add-client") == 0)
		return token_command(CMD_ADD_CLIENT, argc - 1, argv + 1);

	/* First pass: --config, --help, --version, and unknown options. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_HELP:
		case 'h':
			fputs(usage, stdout);
			return 0;
		case OPT_VERSION:
			printf("rune-signd version %s\ncommit: %s\n", RUNE_VERSION, RUNE_COMMIT);
			return 0;
		case OPT_POLICY:
		case OPT_CERT_CN:
		case OPT_EXPIRES:
		case '?':
		case ':':
			return die("unknown option or missing value: '%s' (see --help)",
				   argv[optind - 1]);
		}
	}
	if (optind != argc)
		return die("unexpected argument '%s' (see --help)", argv[optind]);
	signd_config_init(&cfg);
	if (config && signd_config_load(&cfg, config, &err) < 0) {
		ret = die("%s", err_msg(err));
		goto out;
	}
	/* Second pass: the flags override the file. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1)
		if (apply(&cfg, opt, optarg) < 0) {
			ret = 1;
			goto out;
		}

	/* Signals are taken synchronously here; the server's threads inherit the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (signd_server_start(&server, &cfg, &err) < 0) {
		ret = die("%s", err_msg(err));
		goto out;
	}
	fprintf(stderr, "rune-signd: listening on %s (%zu clients, api v1 %s)\n",
		signd_server_url(server), signd_server_clients(server), cfg.api_v1 ? "on" : "off");
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			err_free(&err);
			if (signd_server_reload(server, &err) < 0)
				die("%s", err_msg(err));
			else
				fprintf(stderr, "rune-signd: reloaded: %zu clients\n",
					signd_server_clients(server));
			continue;
		}
		fprintf(stderr, "rune-signd: %s: stopping\n", strsignal(sig));
		break;
	}
	signd_server_stop(server);
	fprintf(stderr, "rune-signd: stopped\n");
out:
	signd_config_free(&cfg);
	return ret;
}
