// SPDX-License-Identifier: Apache-2.0
/*
 * fork in the LibOS (test-libos-spawn.sh): the child is a copy (memory,
 * descriptors), its changes are its own, pipes work across, exec from a
 * fork child, statuses; output compared with a native run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static int shared = 1;
int main(int argc, char **argv)
{
	int status, p[2];
	char *heap = malloc(100);
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		printf("exec'd child: %s\n", argv[1]);
		return 9;
	}
	strcpy(heap, "before fork");
	shared = 42;
	pid = fork();
	if (pid == 0) {
		printf("child: heap '%s', shared %d, ppid is parent: %d\n", heap, shared,
		       getppid() > 0);
		shared = 7;
		exit(3);
	}
	waitpid(pid, &status, 0);
	printf("parent: child exit %d, shared still %d\n", WEXITSTATUS(status), shared);
	if (pipe(p) == 0) {
		pid = fork();
		if (pid == 0) {
			char buf[64] = { 0 };
			close(p[1]);
			if (read(p[0], buf, sizeof(buf) - 1) < 0)
				perror("read");
			printf("child read: %s", buf);
			_exit(0);
		}
		close(p[0]);
		if (write(p[1], "through the pipe\n", 17) != 17)
			perror("write");
		close(p[1]);
		waitpid(pid, &status, 0);
		printf("parent: pipe child exit %d\n", WEXITSTATUS(status));
	}
	pid = fork();
	if (pid == 0) {
		execl(argv[0], argv[0], "hello", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("parent: fork+exec child exit %d\n", WEXITSTATUS(status));
	return 0;
}
