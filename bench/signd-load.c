// SPDX-License-Identifier: Apache-2.0
/*
 * A lean HTTP load generator for rune-signd (bench/signd.sh): one thread,
 * libcurl's multi interface, C connections kept alive (a curl handle each,
 * reused, so TLS handshakes happen once per connection), each POSTing the
 * same body.
 *
 *  closed loop (--rate 0): every connection sends its next request as soon
 *    as the last is answered: the service's throughput at C in flight;
 *  open loop (--rate R): requests are due at R per second, sent on a free
 *    connection when due; the latency counts from when a request was due,
 *    so a slow answer that delays the next ones shows (no coordinated
 *    omission).
 *
 * Prints one line: ok=N err=N secs=S rps=X p50_ms=X p99_ms=X max_ms=X
 * cpu_s=X cpu_pct=X (its own user+system CPU over the measured time; 100 =
 * one core). A request is ok if the status is 200 and the body is
 * --expect-bytes long. The first --warmup seconds are not measured.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct conn {
	CURL *h;
	double due; /* when its request was due (seconds, monotonic) */
	size_t bytes;
	int busy;
};

struct stats {
	double *lat;
	size_t n, cap;
	unsigned long errors;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static size_t count_body(char *data, size_t size, size_t n, void *cls)
{
	(void)data;
	((struct conn *)cls)->bytes += size * n;
	return size * n;
}

static void record(struct stats *st, double lat)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 65536;
		double *p = realloc(st->lat, cap * sizeof(*p));

		if (p == NULL) {
			perror("signd-load: realloc");
			exit(1);
		}
		st->lat = p;
		st->cap = cap;
	}
	st->lat[st->n++] = lat;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const struct stats *st, double p)
{
	size_t i;

	if (st->n == 0)
		return 0;
	i = (size_t)(p * (double)(st->n - 1) + 0.5);
	return st->lat[i];
}

static void usage(void)
{
	fputs("usage: signd-load --url URL --body FILE [--token-file F] [--cacert F]\n"
	      "         [--connections C] [--seconds S] [--warmup S] [--rate R]\n"
	      "         [--expect-bytes N]\n",
	      stderr);
	exit(2);
}

static char *read_file(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (*len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fprintf(stderr, "signd-load: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	buf = malloc((size_t)*len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
		fprintf(stderr, "signd-load: read %s\n", path);
		exit(1);
	}
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "body", required_argument, NULL, 'b' },
		{ "token-file", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "connections", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "expect-bytes", required_argument, NULL, 'e' },
		{ 0 },
	};
	const char *url = NULL, *body_path = NULL, *token_path = NULL, *cacert = NULL;
	long nconn = 32, body_len = 0, expect = -1;
	double seconds = 10, warmup = 1, rate = 0;
	struct curl_slist *headers = NULL;
	struct stats st = { 0 };
	struct conn *conns;
	char *body, auth[512];
	double start, t0, end, next_due, cpu0 = 0;
	unsigned long due_waiting = 0;
	int opt, running, measuring = 0;
	CURLM *multi;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			url = optarg;
			break;
		case 'b':
			body_path = optarg;
			break;
		case 't':
			token_path = optarg;
			break;
		case 'c':
			cacert = optarg;
			break;
		case 'n':
			nconn = strtol(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'w':
			warmup = strtod(optarg, NULL);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 'e':
			expect = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (url == NULL || body_path == NULL || nconn < 1 || nconn > 4096 || seconds <= 0 ||
	    rate < 0)
		usage();
	body = read_file(body_path, &body_len);
	headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
	if (token_path) {
		long tlen;
		char *tok = read_file(token_path, &tlen);

		tok[strcspn(tok, "\r\n")] = '\0';
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		headers = curl_slist_append(headers, auth);
		free(tok);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	conns = calloc((size_t)nconn, sizeof(*conns));
	if (multi == NULL || conns == NULL)
		return 1;
	for (long i = 0; i < nconn; i++) {
		CURL *h = curl_easy_init();

		conns[i].h = h;
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, body_len);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &conns[i]);
		curl_easy_setopt(h, CURLOPT_PRIVATE, &conns[i]);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		if (cacert)
			curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
	}
	/* One connection per handle, never more: keep-alive, as a client pool would. */
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, nconn);

	start = now();
	t0 = start + warmup;
	end = t0 + seconds;
	next_due = start;
	for (;;) {
		double t = now();
		struct CURLMsg *m;
		int left;

		if (!measuring && t >= t0) {
			measuring = 1;
			cpu0 = cpu_seconds();
		}
		if (t >= end)
			break;
		/* Requests due: all connections in a closed loop, R per second in an open one. */
		if (rate > 0)
			while (next_due <= t) {
				due_waiting++;
				next_due += 1.0 / rate;
			}
		for (long i = 0; i < nconn; i++) {
			if (conns[i].busy || (rate > 0 && due_waiting == 0))
				continue;
			conns[i].busy = 1;
			conns[i].bytes = 0;
			if (rate > 0) {
				/* The oldest due request: when it was due. */
				conns[i].due = next_due - (double)due_waiting / rate;
				due_waiting--;
			} else {
				conns[i].due = t;
			}
			curl_multi_add_handle(multi, conns[i].h);
		}
		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct conn *c;
			long status = 0;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			t = now();
			if (c->due >= t0 && t < end) {
				if (m->data.result == CURLE_OK && status == 200 &&
				    (expect < 0 || (long)c->bytes == expect))
					record(&st, t - c->due);
				else
					st.errors++;
			}
			if (m->data.result != CURLE_OK && st.errors < 5)
				fprintf(stderr, "signd-load: %s\n",
					curl_easy_strerror(m->data.result));
			curl_multi_remove_handle(multi, m->easy_handle);
			c->busy = 0;
		}
		{
			int ms = 100;

			if (rate > 0) {
				double wait = (next_due - now()) * 1000;

				ms = wait < 0 ? 0 : wait > 100 ? 100 : (int)wait + 1;
			}
			curl_multi_poll(multi, NULL, 0, ms, NULL);
		}
	}
	{
		double cpu = cpu_seconds() - cpu0;

		qsort(st.lat, st.n, sizeof(*st.lat), cmp_double);
		printf("ok=%zu err=%lu secs=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
		       "cpu_s=%.2f cpu_pct=%.0f\n",
		       st.n, st.errors, seconds, (double)st.n / seconds,
		       percentile(&st, 0.50) * 1e3, percentile(&st, 0.99) * 1e3,
		       st.n ? st.lat[st.n - 1] * 1e3 : 0, cpu, 100 * cpu / seconds);
	}
	for (long i = 0; i < nconn; i++) {
		curl_multi_remove_handle(multi, conns[i].h);
		curl_easy_cleanup(conns[i].h);
	}
	curl_multi_cleanup(multi);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	free(conns);
	free(body);
	free(st.lat);
	return st.n > 0 ? 0 : 1;
}
