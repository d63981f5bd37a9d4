/* SPDX-License-Identifier: Apache-2.0 */
/* `run` in the foreground: rune stays the init's parent, relays the terminal and forwards signals. */
#include "librune/init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "librune/attrs.h"
#include "librune/cgroup.h"
#include "librune/handler.h"
#include "librune/hooks.h"
#include "librune/internal.h"
#include "librune/linux.h"
#include "librune/seccomp.h"
#include "librune/sync.h"
#include "librune/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

static void copy_winsize(int master)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* Waits for pid, forwarding signals and relaying the pty (master, or -1). */
int rune_wait_forwarding(pid_t pid, int master, sigset_t *mask)
{
	_cleanup_close_ int sfd = signalfd(-1, mask, SFD_CLOEXEC);
	bool stdin_open = master >= 0;
	char buf[16384];
	int status = 0;

	if (master >= 0 && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		tio_saved = true;
		atexit(restore_tty);
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		copy_winsize(master);
	}
	for (;;) {
		struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
				       { .fd = master, .events = POLLIN },
				       { .fd = stdin_open ? 0 : -1, .events = POLLIN } };
		int r = poll(p, 3, -1);

		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n > 0)
				write_all(1, buf, n);
			else if (n < 0 && errno != EINTR && errno != EAGAIN)
				master = -1; /* EIO: every slave closed */
		}
		if (p[2].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0)
				write_all(master, buf, n);
			else {
				stdin_open = false;
				/* Pass EOF on to the workload as ^D. */
				if (master >= 0 && n == 0)
					write_all(master, "\x04", 1);
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGWINCH && master >= 0) {
				copy_winsize(master);
			} else if (si.ssi_signo != SIGCHLD) {
				kill(pid, si.ssi_signo);
				continue;
			}
			pid_t w;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0)
				if (w == pid) {
					/* Drain what the workload wrote last. */
					while (master >= 0) {
						struct pollfd q = { .fd = master,
								    .events = POLLIN };
						ssize_t n;
						if (poll(&q, 1, 0) <= 0)
							break;
						n = read(master, buf, sizeof(buf));
						if (n <= 0)
							break;
						write_all(1, buf, n);
					}
					restore_tty();
					return status;
				}
		}
	}
	waitpid(pid, &status, 0);
	restore_tty();
	return status;
}

static void block_forwarded_signals(sigset_t *mask, sigset_t *old)
{
	sigfillset(mask);
	sigdelset(mask, SIGKILL);
	sigdelset(mask, SIGSTOP);
	/* Faults must stay deliverable to rune itself. */
	sigdelset(mask, SIGSEGV);
	sigdelset(mask, SIGBUS);
	sigdelset(mask, SIGILL);
	sigdelset(mask, SIGFPE);
	sigdelset(mask, SIGTTIN);
	sigdelset(mask, SIGTTOU);
	sigdelset(mask, SIGTSTP);
	sigprocmask(SIG_BLOCK, mask, old);
}

int rune_container_run(const struct rune_ctx *ctx, const struct rune_create_opts *o, bool detach,
		       int *exit_status, err_t *err)
{
	struct rune_create_opts co = *o;
	_cleanup_close_ int master = -1, sync = -1;
	sigset_t mask, old;
	pid_t pid;
	int ret, status;

	co.foreground = !detach;
	if (detach) {
		if ((ret = rune_container_create(ctx, &co, err)) < 0)
			return ret;
		*exit_status = 0;
		return rune_container_start(ctx, o->id, err);
	}
	/* Signals arriving before the workload runs are queued, then forwarded. */
	block_forwarded_signals(&mask, &old);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	ret = rune_create(ctx, &co, &pid, &master, &sync, err);
	if (ret < 0)
		goto out;
	if (master >= 0 && o->console_socket)
		close(steal_fd(master));
	/*
	 * Only create needed it (an init forked in a joined user namespace's new
	 * pid namespace is our grandchild); it has been reparented to us by now.
	 */
	if (o->no_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	/* With a pid namespace the kernel kills the rest when init dies; without, we do. */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if ((ret = rune_container_start(ctx, o->id, err)) < 0) {
		err_t e2 = NULL;
		rune_container_delete(ctx, o->id, true, &e2);
		err_free(&e2);
		goto out;
	}
	status = rune_wait_forwarding(pid, master, &mask);
	*exit_status = rune_exit_code(status);
	if (!o->keep) {
		err_t e2 = NULL;
		rune_container_delete(ctx, o->id, true, &e2);
		err_free(&e2);
	}
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
