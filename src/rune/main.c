/* SPDX-License-Identifier: Apache-2.0 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "librune/util.h"
#include "librune/log.h"
#include "rune/rune.h"

#ifndef RUNE_VERSION
#define RUNE_VERSION "0.0.0"
#endif
#ifndef RUNE_COMMIT
#define RUNE_COMMIT "unknown"
#endif
#define RUNE_SPEC_VERSION "1.2.0"

static const struct command commands[] = {
	{ "create", NULL, cmd_create, "[options] <container-id>", "create a container" },
	{ "start", NULL, cmd_start, "<container-id>", "start a created container" },
	{ "run", NULL, cmd_run, "[options] <container-id>", "create and start a container" },
	{ "state", NULL, cmd_state, "<container-id>", "output the state of a container" },
	{ "list", "ls", cmd_list, "[options]", "list containers" },
	{ "kill", NULL, cmd_kill, "[--all] <container-id> [signal]",
	  "send a signal to a container" },
	{ "delete", "rm", cmd_delete, "[--force] <container-id>...", "delete a container" },
	{ "exec", NULL, cmd_exec, "[options] <container-id> [command args...]",
	  "run a new process inside a container" },
	{ "ps", NULL, cmd_ps, "[--format table|json] <container-id> [ps options]",
	  "list the processes of a container" },
	{ "spec", NULL, cmd_spec, "[--bundle DIR] [--rootless]", "create a new config.json" },
	{ "features", NULL, cmd_features, "", "show the features this runtime supports" },
	{ "pause", NULL, cmd_pause, "<container-id>", "pause all processes of a container" },
	{ "resume", NULL, cmd_resume, "<container-id>", "resume a paused container" },
	{ "update", NULL, cmd_update, "[options] <container-id>", "update resource limits" },
	{ "events", NULL, cmd_events, "[--stats] [--interval D] <container-id>",
	  "show container events and statistics" },
	{ "attest", NULL, cmd_attest, "[--report-data HEX] [--target-info FILE] <container-id>",
	  "print a local attestation report of an enclave container" },
	{ "checkpoint", NULL, cmd_checkpoint, "<container-id>",
	  "checkpoint a container (unsupported)" },
	{ "restore", NULL, cmd_restore, "<container-id>", "restore a container (unsupported)" },
};

static void log_line(struct cli *cli, const char *level, const char *msg)
{
	(void)cli;
	rune_log(level, "%s", msg);
}

void cli_log(struct cli *cli, const char *level, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (strcmp(level, "debug") == 0 && !cli->debug)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		log_line(cli, level, msg);
	free(msg);
}

int cli_fail(struct cli *cli, err_t *err)
{
	const char *msg = err_msg(*err);

	fprintf(stderr, "rune: %s\n", msg);
	log_line(cli, "error", msg);
	err_free(err);
	return 1;
}

int cli_usage(struct cli *cli, const char *cmd, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fprintf(stderr, "rune%s%s: %s\nTry 'rune %s%s--help'.\n", cmd ? " " : "", cmd ? cmd : "",
		msg ? msg : "usage error", cmd ? cmd : "", cmd ? " " : "");
	log_line(cli, "error", msg ? msg : "usage error");
	free(msg);
	return 1;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	return getopt_long_only(argc, argv, shortopts, longopts, NULL);
}

int cli_need_args(struct cli *cli, const char *cmd, int argc, int n)
{
	if (n >= 0 && argc != n)
		return cli_usage(cli, cmd, "\"%s\" requires exactly %d argument(s)", cmd, n);
	if (n < 0 && argc < -n)
		return cli_usage(cli, cmd, "\"%s\" requires at least %d argument(s)", cmd, -n);
	return 0;
}

void cli_print_json(json_t *j, bool pretty)
{
	char *text = json_dumps(j, pretty ? JSON_INDENT(2) : JSON_COMPACT);

	if (text)
		printf("%s\n", text);
	free(text);
}

static void print_help(void)
{
	printf("rune: an OCI runtime (runc-compatible) with enclave containers\n\n"
	       "Usage: rune [global options] command [command options] [arguments...]\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-11s %s\n", commands[i].name, commands[i].summary);
	printf("\nGlobal options:\n"
	       "  --root DIR           state directory (default " RUNE_DEFAULT_ROOT ")\n"
	       "  --log FILE           log file (default: none)\n"
	       "  --log-format FMT     text or json\n"
	       "  --debug              debug logging\n"
	       "  --systemd-cgroup     use the systemd cgroup driver\n"
	       "  --pal-dir DIR        allow enclave runtimes (PALs) from DIR (repeatable)\n"
	       "  --version, -v        print the version\n"
	       "  --help, -h           show this help\n");
}

/*
 * How much of our ELF file execve needs: up to the end of the last PT_LOAD
 * segment. Debug sections after it are most of the file and can stay behind.
 */
static off_t loaded_extent(int fd, off_t file_size)
{
	Elf64_Ehdr eh;
	off_t end = 0;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return file_size;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * sizeof(ph)) != sizeof(ph))
			return file_size;
		if (ph.p_offset + ph.p_filesz > (uint64_t)end)
			end = ph.p_offset + ph.p_filesz;
	}
	return end > 0 && end <= file_size ? end : file_size;
}

/*
 * CVE-2019-5736: a container process must never reach the host's rune binary
 * through /proc/<pid>/exe. Commands that put a process into a container run
 * from a sealed, read-only memfd copy of rune instead.
 */
static int reexec_sealed(char **argv)
{
	const int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	extern char **environ;
	struct stat st;
	int mfd;

	if (self < 0)
		return -errno;
	if (fcntl(self, F_GET_SEALS) == seals)
		return 0; /* already running sealed */
	if (fstat(self, &st) < 0)
		return -errno;
	mfd = memfd_create("rune", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	off_t size = loaded_extent(self, st.st_size);
	for (off_t done = 0; done < size;) {
		ssize_t n = sendfile(mfd, self, NULL, size - done);
		if (n <= 0) {
			close(mfd);
			return n < 0 ? -errno : -EIO;
		}
		done += n;
	}
	if (fcntl(mfd, F_ADD_SEALS, seals) < 0) {
		close(mfd);
		return -errno;
	}
	fexecve(mfd, argv, environ);
	close(mfd);
	return -errno;
}

static bool needs_sealed_binary(const char *cmd)
{
	return strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'D' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'C' },
		{ "pal-dir", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *pal_dirs[17];
	size_t n_pal_dirs = 0;
	struct cli cli = { .ctx = { .root = RUNE_DEFAULT_ROOT, .pal_dirs = pal_dirs },
			   .argv0 = argv[0] };
	const char *cmd;
	int c;

	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cli.ctx.root = optarg;
			break;
		case 'l':
			cli.log_path = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return cli_usage(&cli, NULL, "invalid --log-format \"%s\"", optarg);
			cli.log_json = strcmp(optarg, "json") == 0;
			break;
		case 'D':
			cli.debug = true;
			break;
		case 's':
			cli.ctx.systemd_cgroup = true;
			break;
		case 'R':
		case 'C':
			break;
		case 'P':
			if (n_pal_dirs + 1 >= ARRAY_SIZE(pal_dirs))
				return cli_usage(&cli, NULL, "too many --pal-dir");
			pal_dirs[n_pal_dirs++] = optarg;
			break;
		case 'v':
			printf("rune version %s\ncommit: %s\nspec: %s\n", RUNE_VERSION, RUNE_COMMIT,
			       RUNE_SPEC_VERSION);
			return 0;
		case 'h':
			print_help();
			return 0;
		default:
			return cli_usage(&cli, NULL, "flag provided but not defined: %s",
					 argv[optind - 1]);
		}
	}
	/* Created at once, as runc does, and kept open: the init logs through it too. */
	if (rune_log_open(cli.log_path, cli.log_json, cli.debug) < 0) {
		fprintf(stderr, "rune: open --log %s: %s\n", cli.log_path, strerror(errno));
		return 1;
	}
	if (optind >= argc) {
		print_help();
		return 0;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "help") == 0) {
		print_help();
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0 &&
		    !(commands[i].alias && strcmp(cmd, commands[i].alias) == 0))
			continue;
		if (needs_sealed_binary(commands[i].name) && reexec_sealed(argv) < 0) {
			fprintf(stderr, "rune: cannot run from a sealed copy of itself: %s\n",
				strerror(errno));
			return 1;
		}
		int sub = optind;
		if (sub + 1 < argc &&
		    (strcmp(argv[sub + 1], "--help") == 0 || strcmp(argv[sub + 1], "-h") == 0)) {
			printf("Usage: rune %s %s\n\n%s\n", commands[i].name, commands[i].usage,
			       commands[i].summary);
			return 0;
		}
		rune_debug("rune %s: %s, root %s", RUNE_VERSION, commands[i].name, cli.ctx.root);
		optind = 0; /* restart getopt for the subcommand's own flags */
		return commands[i].fn(&cli, argc - sub, argv + sub);
	}
	return cli_usage(&cli, NULL, "no such command: %s", cmd);
}
