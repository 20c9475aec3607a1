/*
 * signal-at.c -- one call of counter_add on the real kernel, with SIGUSR1 delivered exactly before
 * one chosen instruction of it (see native-ops.test.ts). Stress runs reach that instruction by
 * luck; this reaches it every time.
 *
 * Build: gcc -O2 -no-pie signal-at.c COUNTER_ADD.s -o signal-at
 * Usage: signal-at OFFSET      (OFFSET: of the instruction from counter_add, in bytes)
 * Prints: RESULT reached=0|1 handler_runs=N counter=N expected=N lost=N
 *
 * A child pinned to CPU 0, with a SIGUSR1 handler that itself runs counter_add(counters, 1000),
 * stops before counter_add(counters, 1). The parent plants int3 at counter_add+OFFSET through
 * ptrace; at the trap it restores the byte, moves RIP back onto the instruction and resumes the
 * child with SIGUSR1, so the kernel delivers the signal with RIP there: an abort when RIP lies in
 * [start_ip, start_ip + post_commit_offset), none otherwise. Both calls run on CPU 0 and add to
 * counters[0], which lives in memory shared with the parent. Exit 77 when glibc did not register
 * rseq.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

extern int64_t counter_add(uint64_t *counters, int64_t inc);

#define CALL_INC 1
#define HANDLER_INC 1000

struct shared { uint64_t counters[2]; uint64_t handler_runs; };
static struct shared *shared;

static void on_usr1(int sig)
{
	(void)sig;
	counter_add(shared->counters, HANDLER_INC);
	shared->handler_runs++;
}

static void child(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof set, &set)) { perror("sched_setaffinity"); _exit(2); }
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	ptrace(PTRACE_TRACEME, 0, 0, 0);
	raise(SIGSTOP);
	counter_add(shared->counters, CALL_INC);
	_exit(0);
}

static int wait_stop(pid_t pid, int *status)
{
	if (waitpid(pid, status, 0) != pid) { perror("waitpid"); exit(2); }
	return WIFSTOPPED(*status);
}

int main(int argc, char **argv)
{
	if (argc != 2) { fprintf(stderr, "usage: %s OFFSET\n", argv[0]); return 2; }
	if (__rseq_size == 0) { puts("SKIP: glibc did not register rseq"); return 77; }
	char *end;
	long offset = strtol(argv[1], &end, 0);
	if (*end || offset < 0) { fprintf(stderr, "%s: bad offset '%s'\n", argv[0], argv[1]); return 2; }
	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) { perror("mmap"); return 2; }

	pid_t pid = fork();
	if (pid < 0) { perror("fork"); return 2; }
	if (pid == 0) child();

	int status;
	if (!wait_stop(pid, &status) || WSTOPSIG(status) != SIGSTOP) { fprintf(stderr, "the child did not stop\n"); return 2; }
	uint64_t at = (uint64_t)(uintptr_t)counter_add + (uint64_t)offset;
	long orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)at, 0);
	ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)((orig & ~0xffL) | 0xcc));
	ptrace(PTRACE_CONT, pid, 0, 0);

	int reached = 0;
	while (wait_stop(pid, &status)) {
		int sig = WSTOPSIG(status);
		struct user_regs_struct regs;
		ptrace(PTRACE_GETREGS, pid, 0, &regs);
		if (sig == SIGTRAP && !reached && regs.rip == at + 1) {
			reached = 1;
			ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)orig);
			regs.rip = at;
			ptrace(PTRACE_SETREGS, pid, 0, &regs);
			ptrace(PTRACE_CONT, pid, 0, (void *)(long)SIGUSR1);
		} else {
			ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "the child ended with status 0x%x\n", status);
		return 2;
	}
	uint64_t expected = CALL_INC + shared->handler_runs * HANDLER_INC;
	uint64_t counter = shared->counters[0];
	printf("RESULT reached=%d handler_runs=%llu counter=%llu expected=%llu lost=%lld\n", reached,
	       (unsigned long long)shared->handler_runs, (unsigned long long)counter,
	       (unsigned long long)expected, (long long)(expected - counter));
	return 0;
}
