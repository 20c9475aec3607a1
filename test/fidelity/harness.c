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
 * add no aborts), and stopped before the call. The parent plants int3 at ENTRY+OFFSET; the first
 * task that traps there (the call's thread, or a fork child or clone thread it made: all are
 * traced) takes the event. The trap stop is itself a context switch (preempt); migrate moves the
 * stopped task to the other CPU (1, or 0 for a task that pinned itself to 1); signal
 * single-steps it with SIGUSR1 (a handler is installed), so a delivered signal stops it at the handler's first instruction, where the frame says where it
 * will resume. int3 stays at the address and is planted on every abort_ip too, so the next trap
 * shows where the thread resumed after the kernel's rseq work, before any instruction ran; the
 * bytes are then restored in every address space of the row (through /proc/PID/mem) and the call
 * runs to its end. The op's memory is private: a fork child's stores stay its own, and the
 * call's memory is read as its process exits. Exit 77 when glibc did not register rseq (unless
 * FIDELITY_UNREGISTERED is set).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
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
static uint8_t *mem;          /* MAP_PRIVATE: read back from the call's process as it exits */
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
	/* The nearest abort_ip at or below: several handlers may lie within 64 bytes of each other. */
	uint64_t best = 0;
	for (size_t i = 0; i < ncs; i++)
		if (a >= abort_ip[i] && a < abort_ip[i] + 64 && abort_ip[i] > best) best = abort_ip[i];
	if (best) { snprintf(out, n, "abort+%" PRIu64, a - best); return; }
	if (a >= entry && a < entry + 4096) { snprintf(out, n, "entry+%" PRIu64, a - entry); return; }
	snprintf(out, n, "0x%" PRIx64, a);
}

/* Where a process died: a signature executed as ud1 (0f b9) is named from its abort_ip, since
   ld may place the end of the op's code just as close before abort_ip. */
static void died_where(char *out, size_t n, uint64_t a) {
	const uint8_t *p = (const uint8_t *)(uintptr_t)a; /* the parent's text is the child's */
	uint64_t best = UINT64_MAX;
	for (size_t i = 0; i < ncs; i++)
		if (a < abort_ip[i] && a + 16 >= abort_ip[i] && p[0] == 0x0f && p[1] == 0xb9 && abort_ip[i] < best) best = abort_ip[i];
	if (best != UINT64_MAX) { snprintf(out, n, "abort-%" PRIu64, best - a); return; }
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

/* The CPU a task is not pinned to: 1 for a task on CPU 0 (every task starts there), 0 for one
   that pinned itself to CPU 1. */
static int other_cpu(pid_t tid) {
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(tid, sizeof set, &set)) return 1;
	return CPU_ISSET(0, &set) ? 1 : 0;
}

static void child(void) {
	typedef uint64_t (*op_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
	op_fn op = (op_fn)entry;
	pin(0, 0);
	/* No core dumps: a fork child killed by a signal then has the wait status the emulator gives. */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
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

/* Text is patched through /proc/PID/mem, which needs no stop of the process and reaches every
   address space: a fork child has its own copy of the int3 planted before it was made. */
static uint8_t mem_byte(pid_t pid, uint64_t a, int set, uint8_t v) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDWR);
	if (fd < 0) return 0;
	uint8_t old = 0;
	if (pread(fd, &old, 1, (off_t)a) != 1) old = 0;
	if (set && pwrite(fd, &v, 1, (off_t)a) != 1) { /* the process is gone */ }
	close(fd);
	return old;
}
static uint8_t plant(pid_t pid, uint64_t a) { return mem_byte(pid, a, 1, 0xcc); }
static void unplant(pid_t pid, uint64_t a, uint8_t orig) { mem_byte(pid, a, 1, orig); }

static long peek(pid_t pid, uint64_t a) { return ptrace(PTRACE_PEEKDATA, pid, (void *)a, 0); }

struct area { uint32_t cpu_id_start, cpu_id; uint64_t rseq_cs; int registered; };
/* The area the task registered (PTRACE_GET_RSEQ_CONFIGURATION: a raw clone thread registers its
   own); glibc's area at the thread pointer when it registered none. */
static struct area read_area(pid_t pid, uint64_t fs_base) {
	struct __ptrace_rseq_configuration conf = {0};
	long got = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof conf, &conf);
	struct area a;
	/* Before Linux 5.13 there is no such request: glibc's area, whose ids say whether it is registered. */
	a.registered = got < 0 ? 1 : conf.rseq_abi_pointer != 0;
	uint64_t at = a.registered ? conf.rseq_abi_pointer : fs_base + (uint64_t)__rseq_offset;
	long w0 = peek(pid, at), w1 = peek(pid, at + 8);
	a.cpu_id_start = (uint32_t)w0;
	a.cpu_id = (uint32_t)((unsigned long)w0 >> 32);
	a.rseq_cs = (uint64_t)w1;
	return a;
}

/* The thread group a task belongs to (a raw clone thread's is the call's, a fork child's its own). */
static pid_t tgid_of(pid_t tid) {
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	pid_t t = 0;
	if (!f) return 0;
	while (fgets(line, sizeof line, f)) if (sscanf(line, "Tgid: %d", &t) == 1) break;
	fclose(f);
	return t;
}

/* Whether the thread has signal `sig` pending (SigPnd of /proc/TID/status). */
static int pending(pid_t tid, int sig) {
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	unsigned long long set = 0;
	if (!f) return 0;
	while (fgets(line, sizeof line, f)) if (sscanf(line, "SigPnd: %llx", &set) == 1) break;
	fclose(f);
	return (int)((set >> (sig - 1)) & 1);
}

/* Whether `a` holds one of the row's int3s: the event's address or an abort_ip. */
static int planted(pid_t pid, uint64_t a, uint64_t at) {
	if (mem_byte(pid, a, 0, 0) != 0xcc) return 0;
	if (a == at) return 1;
	for (size_t i = 0; i < ncs; i++) if (a == abort_ip[i]) return 1;
	return 0;
}

#define MAXPROC 16
/* Every address space of the row (the call's process and its fork children), one task of each. */
static pid_t procs[MAXPROC];
static size_t nprocs;

static void row(const char *kind, uint64_t off) {
	memset(mem, 0, memsize + 8);
	memcpy(mem, init, ninit * 8);
	pid_t pid = fork();
	if (pid == 0) child();
	int st;
	waitpid(pid, &st, 0); /* the SIGSTOP before the call */
	ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT));
	nprocs = 0;
	procs[nprocs++] = pid;
	uint64_t at = entry + off;
	int event = strcmp(kind, "none") != 0;
	uint8_t orig = event ? plant(pid, at) : 0;
	uint8_t orig_abort[MAXCS];
	int reached = 0, trapped_again = 0, perturbed = 0;
	pid_t evt = 0;
	struct area before = {0}, after = {0};
	char resume[64] = "", died[64] = "", rcs_before[32] = "", rcs_after[32] = "";
	int sig = 0, got_memory = 0, evt_sig = 0;
	ptrace(PTRACE_CONT, pid, 0, 0);
	for (;;) {
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) break;
		if (!WIFSTOPPED(st)) {
			if (w == evt && WIFSIGNALED(st)) evt_sig = WTERMSIG(st);
			if (w == pid) break; /* the call's process is gone (its other tasks first) */
			continue;
		}
		int s = WSTOPSIG(st), ev = st >> 16;
		if (ev) {
			unsigned long msg = 0;
			ptrace(PTRACE_GETEVENTMSG, w, 0, &msg);
			if ((ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK) && nprocs < MAXPROC) procs[nprocs++] = (pid_t)msg;
			/* The call's memory as it ends, read before its address space goes (MAP_PRIVATE, so a
			   fork child's stores stay its own, as in the emulator). */
			/* Any task of the call's process may be the last one that can (a thread killing the
			   process stops here, the others are killed without a stop): the last read wins. */
			if (ev == PTRACE_EVENT_EXIT && (w == pid || tgid_of(w) == pid)) {
				char path[64];
				snprintf(path, sizeof path, "/proc/%d/mem", (int)w); /* the leader may be gone already */
				int fd = open(path, O_RDONLY);
				got_memory = fd >= 0 && pread(fd, mem, memsize + 8, (off_t)(uintptr_t)mem) == (ssize_t)(memsize + 8);
				if (fd >= 0) close(fd);
			}
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		struct user_regs_struct regs;
		ptrace(PTRACE_GETREGS, w, 0, &regs);
		/* An int3 traps with SI_KERNEL; the report of a step into a signal handler does not
		   (and the handler may begin right after the planted byte). */
		siginfo_t si = {0};
		ptrace(PTRACE_GETSIGINFO, w, 0, &si);
		int int3 = s == SIGTRAP && si.si_code == SI_KERNEL;
		if (int3 && event && !reached && regs.rip - 1 == at) {
			reached = 1;
			evt = w;
			before = read_area(w, regs.fs_base);
			regs.rip = at;
			ptrace(PTRACE_SETREGS, w, 0, &regs);
			for (size_t i = 0; i < ncs; i++) orig_abort[i] = plant(w, abort_ip[i]);
			if (!strcmp(kind, "migrate")) pin(w, other_cpu(w));
			/* A signal is sent with a single step: when it is delivered the thread stops at the
			   handler's first instruction, its frame built (the handler may itself run the
			   instruction at `at` or arm a section); when it is blocked the step executes the int3. */
			if (!strcmp(kind, "signal")) ptrace(PTRACE_SINGLESTEP, w, 0, (void *)(long)SIGUSR1);
			else ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		if (s == SIGTRAP && !int3 && reached && !trapped_again && w == evt) {
			/* At a handler's entry: the frame saved where the thread resumes (uc_mcontext.rip at
			   rsp + 8 + 168). A fix-up that failed during delivery left SIGSEGV pending: the
			   thread resumes nowhere. */
			if (!pending(w, SIGSEGV)) {
				trapped_again = 1;
				after = read_area(w, regs.fs_base);
				where(resume, sizeof resume, (uint64_t)peek(w, regs.rsp + 8 + 168));
				for (size_t i = ncs; i-- > 0;) unplant(w, abort_ip[i], orig_abort[i]);
				for (size_t i = 0; i < nprocs; i++) unplant(procs[i], at, orig);
			}
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		if (int3 && reached && !trapped_again && w == evt) {
			trapped_again = 1;
			regs.rip -= 1;
			after = read_area(w, regs.fs_base);
			where(resume, sizeof resume, regs.rip);
			for (size_t i = ncs; i-- > 0;) unplant(w, abort_ip[i], orig_abort[i]);
			for (size_t i = 0; i < nprocs; i++) unplant(procs[i], at, orig);
			ptrace(PTRACE_SETREGS, w, 0, &regs);
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		if (int3 && event && planted(w, regs.rip - 1, at)) {
			/* Another task at a planted int3: step it over the original byte. Its stop is a context
			   switch the emulator does not see, so the row says so. */
			uint64_t a = regs.rip - 1;
			uint8_t o = a == at ? orig : 0;
			for (size_t i = 0; i < ncs; i++) if (a == abort_ip[i]) o = orig_abort[i];
			perturbed++;
			regs.rip = a;
			ptrace(PTRACE_SETREGS, w, 0, &regs);
			unplant(w, a, o);
			ptrace(PTRACE_SINGLESTEP, w, 0, 0);
			waitpid(w, &st, __WALL);
			plant(w, a);
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		/* A new task's first stop (its SIGSTOP) is not a signal to pass on. */
		if (s == SIGSTOP) { ptrace(PTRACE_CONT, w, 0, 0); continue; }
		/* Any other signal goes to the task as it would without a tracer; where a synchronous
		   one was raised in the call's process is where that process dies when it is fatal. */
		if ((s == SIGSEGV || s == SIGILL || s == SIGBUS) && tgid_of(w) == pid) death_place(died, sizeof died, regs.rip);
		ptrace(PTRACE_CONT, w, 0, (void *)(long)s);
	}
	/* Fork children the call left behind are not waited for by anyone else. */
	int left;
	while (waitpid(-1, &left, __WALL | WNOHANG) > 0) {}
	if (WIFSIGNALED(st)) sig = WTERMSIG(st);
	cs_name(rcs_before, sizeof rcs_before, before.rseq_cs);
	cs_name(rcs_after, sizeof rcs_after, after.rseq_cs);
	printf("{\"kind\":\"%s\",\"offset\":%" PRIu64 ",\"reached\":%s", kind, off, reached ? "true" : "false");
	if (reached && trapped_again)
		printf(",\"resume\":\"%s\",\"rseqCsBefore\":\"%s\",\"rseqCsAfter\":\"%s\",\"cpuIdStart\":%u,\"cpuId\":%u,\"registered\":%s",
		       resume, rcs_before, rcs_after, after.cpu_id_start, after.cpu_id, after.registered ? "true" : "false");
	if (reached) printf(",\"eventTask\":%d,\"eventSignal\":%d", evt == pid ? 0 : 1, evt_sig);
	if (perturbed) printf(",\"perturbed\":%d", perturbed);
	if (!got_memory) printf(",\"noMemory\":true");
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
	mem = mmap(NULL, MAXMEM + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
