/*
 * harness.c -- runs one rseq op of asm/ on the real kernel, stopping it before a chosen
 * instruction with ptrace and performing a kernel event there (see fidelity.test.ts).
 *
 * Build: gcc -O1 -no-pie -rdynamic harness.c OP.s -o harness
 * Usage: harness ENTRY MEMSIZE 'INIT' ARG...   (INIT: comma-separated u64 words; a word or an
 *        ARG is a number or m+OFF, an address in the op's memory region)
 *        stdin: one row a line, "KIND OFFSET" with KIND none|preempt|migrate|signal and OFFSET
 *        the instruction's offset from ENTRY; stdout: one JSON object a row.
 *
 * Per row a child is forked, pinned to CPU 0, its memory locked and pre-faulted (so page faults
 * add no aborts), and stopped before the call. The parent plants int3 at ENTRY+OFFSET; when the
 * child traps there the trap stop is itself a context switch (preempt); migrate moves the stopped
 * child to CPU 1; signal continues it with SIGUSR1 (a handler is installed). int3 stays at the
 * address and is planted on every abort_ip too, so the next trap shows where the thread resumed
 * after the kernel's rseq work, before any instruction ran; the bytes are then restored and the
 * op runs to its end. Exit 77 when glibc did not register rseq (unless FIDELITY_UNREGISTERED is set).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct cs_desc { uint32_t version, flags; uint64_t start_ip, post_commit_offset, abort_ip; };
extern struct cs_desc *__start___rseq_cs_ptr_array[] __attribute__((weak));
extern struct cs_desc *__stop___rseq_cs_ptr_array[] __attribute__((weak));

#define MAXMEM 4096
#define MAXARGS 6
#define MAXCS 16

static size_t ncs;
static uint64_t cs_addr[MAXCS], abort_ip[MAXCS];
static uintptr_t entry;
static uint8_t *mem;          /* MAP_SHARED: the child's final memory is visible here */
static size_t memsize;
static uint64_t init[MAXMEM / 8];
static size_t ninit;
static uint64_t args[MAXARGS];
static int nargs;

static uint64_t value(const char *s) {
	if (s[0] == 'm' && s[1] == '+') return (uint64_t)(uintptr_t)mem + strtoull(s + 2, NULL, 0);
	return strtoull(s, NULL, 0);
}

/* An address as the test compares it: relative to the entry, an abort handler or the region. */
static void where(char *out, size_t n, uint64_t a) {
	for (size_t i = 0; i < ncs; i++)
		if (a >= abort_ip[i] && a < abort_ip[i] + 64) { snprintf(out, n, "abort+%" PRIu64, a - abort_ip[i]); return; }
	if (a >= entry && a < entry + 4096) { snprintf(out, n, "entry+%" PRIu64, a - entry); return; }
	snprintf(out, n, "0x%" PRIx64, a);
}

/* Where a process died: a signature executed as ud1 (0f b9) is named from its abort_ip, since
   ld may place the end of the op's code just as close before abort_ip. */
static void died_where(char *out, size_t n, uint64_t a) {
	const uint8_t *p = (const uint8_t *)(uintptr_t)a; /* the parent's text is the child's */
	for (size_t i = 0; i < ncs; i++)
		if (a < abort_ip[i] && a + 16 >= abort_ip[i] && p[0] == 0x0f && p[1] == 0xb9) { snprintf(out, n, "abort-%" PRIu64, abort_ip[i] - a); return; }
	where(out, n, a);
}

static void on_usr1(int sig);

/* Where a process died; the harness's own SIGUSR1 handler, the emulator's stand-in, has a name. */
static void death_place(char *out, size_t n, uint64_t a) {
	if (a == (uint64_t)(uintptr_t)on_usr1) snprintf(out, n, "usr1-handler");
	else died_where(out, n, a);
}

static void cs_name(char *out, size_t n, uint64_t a) {
	if (a == 0) { snprintf(out, n, "0"); return; }
	for (size_t i = 0; i < ncs; i++)
		if (a == cs_addr[i]) { snprintf(out, n, "cs%zu", i); return; }
	snprintf(out, n, "0x%" PRIx64, a);
}

static void on_usr1(int sig) { (void)sig; }

static void pin(pid_t pid, int cpu) {
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(pid, sizeof set, &set)) { perror("sched_setaffinity"); exit(2); }
}

static void child(void) {
	typedef uint64_t (*op_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
	op_fn op = (op_fn)entry;
	pin(0, 0);
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	volatile uint8_t stack[65536];
	memset((void *)stack, 0, sizeof stack); /* pre-fault the stack the op and handler use */
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) { /* best effort: without CAP_IPC_LOCK limits apply */ }
	ptrace(PTRACE_TRACEME, 0, 0, 0);
	raise(SIGSTOP);
	uint64_t r = op(args[0], args[1], args[2], args[3], args[4], args[5]);
	memcpy(mem + memsize, &r, 8);
	_exit(0);
}

static long peek(pid_t pid, uint64_t a) { return ptrace(PTRACE_PEEKDATA, pid, (void *)a, 0); }
static void poke(pid_t pid, uint64_t a, long v) { ptrace(PTRACE_POKEDATA, pid, (void *)a, (void *)v); }
static long plant(pid_t pid, uint64_t a) {
	long orig = peek(pid, a);
	poke(pid, a, (orig & ~0xffL) | 0xcc);
	return orig;
}

struct area { uint32_t cpu_id_start, cpu_id; uint64_t rseq_cs; };
static struct area read_area(pid_t pid, uint64_t at) {
	struct area a;
	long w0 = peek(pid, at), w1 = peek(pid, at + 8);
	a.cpu_id_start = (uint32_t)w0;
	a.cpu_id = (uint32_t)((unsigned long)w0 >> 32);
	a.rseq_cs = (uint64_t)w1;
	return a;
}

static void row(const char *kind, uint64_t off) {
	memset(mem, 0, memsize + 8);
	memcpy(mem, init, ninit * 8);
	for (int i = 0; i < nargs; i++) (void)0;
	pid_t pid = fork();
	if (pid == 0) child();
	int st;
	waitpid(pid, &st, 0); /* the SIGSTOP before the call */
	ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(long)PTRACE_O_EXITKILL);
	uint64_t at = entry + off;
	int event = strcmp(kind, "none") != 0;
	long orig = event ? plant(pid, at) : 0;
	long orig_abort[MAXCS];
	int reached = 0, trapped_again = 0;
	struct area before = {0}, after = {0};
	char resume[64] = "", died[64] = "", rcs_before[32] = "", rcs_after[32] = "";
	int sig = 0;
	ptrace(PTRACE_CONT, pid, 0, 0);
	for (;;) {
		waitpid(pid, &st, 0);
		if (!WIFSTOPPED(st)) break;
		int s = WSTOPSIG(st);
		struct user_regs_struct regs;
		ptrace(PTRACE_GETREGS, pid, 0, &regs);
		uint64_t area_at = regs.fs_base + (uint64_t)__rseq_offset;
		if (s == SIGTRAP && event && !reached && regs.rip - 1 == at) {
			reached = 1;
			before = read_area(pid, area_at);
			regs.rip = at;
			ptrace(PTRACE_SETREGS, pid, 0, &regs);
			for (size_t i = 0; i < ncs; i++) orig_abort[i] = plant(pid, abort_ip[i]);
			if (!strcmp(kind, "migrate")) pin(pid, 1);
			ptrace(PTRACE_CONT, pid, 0, (void *)(long)(!strcmp(kind, "signal") ? SIGUSR1 : 0));
			continue;
		}
		if (s == SIGTRAP && reached && !trapped_again) {
			trapped_again = 1;
			regs.rip -= 1;
			after = read_area(pid, area_at);
			where(resume, sizeof resume, regs.rip);
			for (size_t i = ncs; i-- > 0;) poke(pid, abort_ip[i], orig_abort[i]);
			poke(pid, at, orig);
			ptrace(PTRACE_SETREGS, pid, 0, &regs);
			ptrace(PTRACE_CONT, pid, 0, 0);
			continue;
		}
		/* Any other signal goes to the child as it would without a tracer; where a synchronous
		   one was raised is where the process dies when it is fatal. */
		if (s == SIGSEGV || s == SIGILL || s == SIGBUS) death_place(died, sizeof died, regs.rip);
		ptrace(PTRACE_CONT, pid, 0, (void *)(long)s);
	}
	if (WIFSIGNALED(st)) sig = WTERMSIG(st);
	cs_name(rcs_before, sizeof rcs_before, before.rseq_cs);
	cs_name(rcs_after, sizeof rcs_after, after.rseq_cs);
	printf("{\"kind\":\"%s\",\"offset\":%" PRIu64 ",\"reached\":%s", kind, off, reached ? "true" : "false");
	if (reached && trapped_again)
		printf(",\"resume\":\"%s\",\"rseqCsBefore\":\"%s\",\"rseqCsAfter\":\"%s\",\"cpuIdStart\":%u,\"cpuId\":%u",
		       resume, rcs_before, rcs_after, after.cpu_id_start, after.cpu_id);
	if (sig) printf(",\"end\":\"signal\",\"signal\":%d,\"diedAt\":\"%s\"", sig, died);
	else printf(",\"end\":\"exit\",\"exitCode\":%d", WEXITSTATUS(st));
	uint64_t r;
	memcpy(&r, mem + memsize, 8);
	printf(",\"rax\":\"%" PRIu64 "\",\"base\":\"%" PRIu64 "\",\"memory\":[", r, (uint64_t)(uintptr_t)mem);
	for (size_t i = 0; i < memsize / 8; i++) {
		uint64_t w;
		memcpy(&w, mem + 8 * i, 8);
		printf("%s\"%" PRIu64 "\"", i ? "," : "", w);
	}
	printf("]}\n");
	fflush(stdout);
}

int main(int argc, char **argv) {
	if (argc < 4) { fprintf(stderr, "usage: harness ENTRY MEMSIZE INIT ARG...\n"); return 2; }
	/* FIDELITY_UNREGISTERED=1: the caller disabled glibc's registration on purpose (GLIBC_TUNABLES). */
	if (__rseq_size == 0 && !getenv("FIDELITY_UNREGISTERED")) { printf("{\"skip\":\"glibc did not register rseq\"}\n"); return 77; }
	entry = (uintptr_t)dlsym(RTLD_DEFAULT, argv[1]);
	if (!entry) { fprintf(stderr, "harness: no symbol %s\n", argv[1]); return 2; }
	memsize = strtoul(argv[2], NULL, 0);
	if (memsize == 0 || memsize > MAXMEM || memsize % 8) { fprintf(stderr, "harness: bad MEMSIZE\n"); return 2; }
	mem = mmap(NULL, MAXMEM + 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) { perror("mmap"); return 2; }
	for (char *tok = strtok(argv[3], ","); tok && ninit < MAXMEM / 8; tok = strtok(NULL, ",")) init[ninit++] = value(tok);
	for (int i = 4; i < argc && nargs < MAXARGS; i++) args[nargs++] = value(argv[i]);
	if (__start___rseq_cs_ptr_array)
		for (struct cs_desc **p = __start___rseq_cs_ptr_array; p < __stop___rseq_cs_ptr_array && ncs < MAXCS; p++) {
			cs_addr[ncs] = (uint64_t)(uintptr_t)*p;
			abort_ip[ncs++] = (*p)->abort_ip;
		}
	char kind[16];
	uint64_t off;
	while (scanf("%15s %" SCNu64, kind, &off) == 2) row(kind, off);
	return 0;
}
