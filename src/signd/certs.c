/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client certificates: the client CA(s) and their CRLs as one GnuTLS trust
 * list, loaded at start and on SIGHUP (a CRL is replaced often), against
 * which each request's peer chain is verified. libmicrohttpd gets the CAs
 * only to ask TLS clients for a certificate; the decision is made here.
 */
#include "signd/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "common/cleanup.h"

#define PEM_MAX (16 << 20)

/* The CRLs of the file: each signed by a CA of the list and not out of date. */
static int add_crls(gnutls_x509_trust_list_t tl, const char *path, err_t *err)
{
	_cleanup_free_ char *pem = NULL;
	gnutls_x509_crl_t *crls = NULL;
	unsigned int n = 0, i;
	gnutls_datum_t d;
	time_t now = time(NULL);
	size_t len;
	int ret;

	ret = signd_read_trusted("client CRL", path, 0, PEM_MAX, &pem, &len, err);
	if (ret < 0)
		return ret;
	d = (gnutls_datum_t){ .data = (unsigned char *)pem, .size = (unsigned int)len };
	ret = gnutls_x509_crl_list_import2(&crls, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0 || n == 0)
		return err_set(err, EINVAL, "client CRL %s: no PEM CRL in it (%s)", path,
			       ret < 0 ? gnutls_strerror(ret) : "empty");
	for (i = 0; i < n; i++) {
		time_t next = gnutls_x509_crl_get_next_update(crls[i]);

		if (next != (time_t)-1 && next < now) {
			char when[32];

			signd_format_time(next, when, sizeof(when));
			ret = err_set(err, EINVAL,
				      "client CRL %s: CRL %u is out of date (next update %s): "
				      "fetch a new one",
				      path, i + 1, when);
			i = 0;
			goto fail;
		}
	}
	/* One by one: the list owns those added, the rest stay ours on failure. */
	for (i = 0; i < n; i++) {
		ret = gnutls_x509_trust_list_add_crls(
		    tl, &crls[i], 1, GNUTLS_TL_VERIFY_CRL | GNUTLS_TL_FAIL_ON_INVALID_CRL, 0);
		if (ret < 0) {
			ret = err_set(err, EINVAL,
				      "client CRL %s: CRL %u is not signed by the client CA (%s)",
				      path, i + 1, gnutls_strerror(ret));
			goto fail;
		}
	}
	gnutls_free(crls);
	return 0;
fail:
	for (; i < n; i++)
		gnutls_x509_crl_deinit(crls[i]);
	gnutls_free(crls);
	return ret;
}

int signd_trust_load(gnutls_x509_trust_list_t *out, const char *ca_path, const char *crl_path,
		     err_t *err)
{
	_cleanup_free_ char *pem = NULL;
	gnutls_x509_trust_list_t tl;
	gnutls_datum_t d;
	size_t len;
	int ret;

	ret = signd_read_trusted("client CA", ca_path, 0, PEM_MAX, &pem, &len, err);
	if (ret < 0)
		return ret;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return err_set(err, ENOMEM, "client CA: out of memory");
	d = (gnutls_datum_t){ .data = (unsigned char *)pem, .size = (unsigned int)len };
	ret = gnutls_x509_trust_list_add_trust_mem(tl, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (ret <= 0) {
		gnutls_x509_trust_list_deinit(tl, 1);
		return err_set(err, EINVAL, "client CA %s: no PEM certificate in it%s%s", ca_path,
			       ret < 0 ? ": " : "", ret < 0 ? gnutls_strerror(ret) : "");
	}
	if (crl_path) {
		ret = add_crls(tl, crl_path, err);
		if (ret < 0) {
			gnutls_x509_trust_list_deinit(tl, 1);
			return ret;
		}
	}
	*out = tl;
	return 0;
}

int signd_trust_verify(gnutls_x509_trust_list_t tl, const gnutls_datum_t *peers, unsigned int n,
		       unsigned int *status)
{
	gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
					  .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
	gnutls_x509_crt_t chain[16];
	unsigned int i;
	int ret = 0;

	if (n > sizeof(chain) / sizeof(chain[0]))
		n = sizeof(chain) / sizeof(chain[0]);
	for (i = 0; i < n; i++) {
		ret = gnutls_x509_crt_init(&chain[i]);
		if (ret < 0)
			break;
		ret = gnutls_x509_crt_import(chain[i], &peers[i], GNUTLS_X509_FMT_DER);
		if (ret < 0) {
			i++;
			break;
		}
	}
	if (ret == 0)
		ret =
		    gnutls_x509_trust_list_verify_crt2(tl, chain, n, &purpose, 1, 0, status, NULL);
	while (i > 0)
		gnutls_x509_crt_deinit(chain[--i]);
	return ret;
}
