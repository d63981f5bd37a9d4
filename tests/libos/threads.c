// SPDX-License-Identifier: Apache-2.0
/*
 * Thread workload for tests/libos/test-libos-threads.sh, run natively and
 * inside the LibOS enclave (static musl and glibc). Its output depends only
 * on what the threads compute, never on their scheduling.
 *   work N        N threads: a mutex-protected counter, a condition variable
 *                 the last one signals, thread-local storage, distinct tids
 *   limit N       start up to N threads that wait on a condition variable:
 *                 how many started before pthread_create failed, and why
 *   timed         pthread_cond_timedwait times out; nanosleep in threads
 *   exit-thread   a thread calls exit(7) while main waits in pthread_join
 *   main-exits    main calls pthread_exit; another thread ends the process
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int done_count, go;
static __thread long tls_value;
static pid_t tids[64];

static void *worker(void *arg)
{
	long id = (long)arg;

	tls_value = id * 100;
	tids[id] = (pid_t)syscall(SYS_gettid);
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		if (i % 250 == 0)
			sched_yield();
	}
	pthread_mutex_lock(&lock);
	done_count++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return (void *)(tls_value == id * 100 ? 0L : 1L);
}

static int work(int n)
{
	pthread_t th[64];
	int bad = 0, distinct = 1;

	if (n > 64)
		n = 64;
	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i)) {
			printf("pthread_create %ld failed\n", i);
			return 1;
		}
	pthread_mutex_lock(&lock);
	while (done_count < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < n; i++) {
		void *r;

		pthread_join(th[i], &r);
		bad += r != NULL;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (tids[i] == tids[j] || tids[i] == getpid())
				distinct = 0;
	printf("threads %d counter %ld tls %s tids %s\n", n, counter, bad ? "bad" : "ok",
	       distinct ? "distinct" : "shared");
	return 0;
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static int limit(int n)
{
	pthread_t th[64];
	int k, err = 0;

	if (n > 64)
		n = 64;
	for (k = 0; k < n; k++) {
		err = pthread_create(&th[k], NULL, waiter, NULL);
		if (err)
			break;
	}
	printf("started %d of %d: %s\n", k, n, err ? strerror(err) : "all");
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < k; i++)
		pthread_join(th[i], NULL);
	printf("joined %d\n", k);
	return 0;
}

static void *napper(void *arg)
{
	struct timespec ts = { 0, 20 * 1000000 };

	nanosleep(&ts, NULL);
	return arg;
}

static int timed(void)
{
	struct timespec ts;
	pthread_t th[4];
	int r;

	for (long i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, napper, (void *)i);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50 * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lock);
	r = pthread_cond_timedwait(&cond, &lock, &ts);
	pthread_mutex_unlock(&lock);
	printf("timedwait: %s\n", r == ETIMEDOUT ? "timed out" : strerror(r));
	for (long i = 0; i < 4; i++) {
		void *v;

		pthread_join(th[i], &v);
		printf("napper %ld returned %ld\n", i, (long)v);
	}
	return 0;
}

static void *exiter(void *arg)
{
	(void)arg;
	fflush(stdout);
	exit(7);
}

static void *last_one(void *arg)
{
	struct timespec ts = { 0, 30 * 1000000 };

	(void)arg;
	nanosleep(&ts, NULL);
	printf("the last thread ends the process\n");
	fflush(stdout);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "work";
	int n = argc > 2 ? atoi(argv[2]) : 8;
	pthread_t th;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "work"))
		return work(n);
	if (!strcmp(cmd, "limit"))
		return limit(n);
	if (!strcmp(cmd, "timed"))
		return timed();
	if (!strcmp(cmd, "exit-thread")) {
		printf("main waits\n");
		pthread_create(&th, NULL, exiter, NULL);
		pthread_join(th, NULL);
		printf("not reached\n");
		return 1;
	}
	if (!strcmp(cmd, "main-exits")) {
		pthread_create(&th, NULL, last_one, NULL);
		pthread_exit(NULL);
	}
	fprintf(stderr, "unknown command %s\n", cmd);
	return 2;
}
