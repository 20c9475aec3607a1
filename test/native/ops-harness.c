/*
 * ops-harness.c -- runs the hand-written rseq ops of asm/ on the real Linux kernel.
 *
 * Build (see native-ops.test.ts):
 *   gcc -O2 -no-pie -pthread ops-harness.c asm/counter_add.s asm/cmpeqv_storev.s \
 *       asm/percpu_list.s asm/buffer_push.s asm/memcpy_buffer_push.s -o ops-harness
 *
 * Usage: ops-harness probe | counter | cmpeqv | list | buffer | memcpy [scale-percent]
 *   probe    check that glibc registered rseq for this thread (exit 77 if not), that
 *            the rseq area's cpu_id matches the CPU we are pinned to, and that the
 *            descriptor / exit-point tables of the linked .s files are sane
 *   others   stress one op with 2 threads per CPU pinned round-robin + 2 unpinned,
 *            while a perturber thread signals every worker each ~20-50 us and moves
 *            the unpinned ones between CPUs (sched_setaffinity); then check totals.
 *            For counter and cmpeqv the SIGUSR1 handler also runs the op itself
 *            (nested use), so a missed abort shows up as a lost update.
 *
 * Exit status: 0 all checks passed, 1 a check failed, 2 usage/setup error,
 * 77 rseq not available (glibc's __rseq_size == 0).
 * The last line of output is always "RESULT op=<op> ok=<0|1> key=value ...".
 *
 * Every SIGUSR1 the perturber sends is delivered with the rseq fix-up already done,
 * so the handler sees the interrupted RIP: it must never lie inside a critical
 * section (the kernel must have moved it to abort_ip); if it equals an abort_ip we
 * count one observed signal-induced abort.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* ------------------------------------------------------------------ the ops */

struct node {
	struct node *next;
	uint64_t payload;
};

struct cpu_buffer {
	uint64_t count;
	uint64_t capacity;
	uint64_t slots[14];
};
_Static_assert(sizeof(struct cpu_buffer) == 128, "cpu_buffer is 128 bytes");

struct cpu_membuf {
	uint64_t count;
	uint64_t capacity;
	uint8_t data[240];
};
_Static_assert(sizeof(struct cpu_membuf) == 256, "cpu_membuf is 256 bytes");

extern int64_t counter_add(uint64_t *counters, int64_t inc);
extern int64_t cmpeqv_storev(int64_t *slots, int64_t expect, int64_t newv);
extern int64_t list_push(struct node **heads, struct node *node);
extern struct node *list_pop(struct node **heads);
extern int64_t buffer_push(struct cpu_buffer *bufs, uint64_t item);
extern int64_t memcpy_buffer_push(struct cpu_membuf *bufs, const uint8_t *item);

/* ------------------------------------------------------- rseq table access */

struct rseq_cs_desc {
	uint32_t version;
	uint32_t flags;
	uint64_t start_ip;
	uint64_t post_commit_offset;
	uint64_t abort_ip;
};

/* Provided by GNU ld for orphan sections whose names are C identifiers. */
extern struct rseq_cs_desc *__start___rseq_cs_ptr_array[] __attribute__((weak));
extern struct rseq_cs_desc *__stop___rseq_cs_ptr_array[] __attribute__((weak));
extern uint64_t __start___rseq_exit_point_array[] __attribute__((weak));
extern uint64_t __stop___rseq_exit_point_array[] __attribute__((weak));

#define MAX_CS 16
static int n_cs;
static uint64_t cs_start[MAX_CS], cs_len[MAX_CS], cs_abort[MAX_CS];

/* ----------------------------------------------------------------- globals */

#define MAX_THREADS 64
static int nslots;           /* entries in per-CPU arrays */
static int ncpus;            /* CPUs in our affinity mask */
static int cpus[CPU_SETSIZE];
static int nthreads, npinned;
static pthread_t tids[MAX_THREADS];
static int pin_of[MAX_THREADS]; /* cpu, or -1 for unpinned */

static volatile int stop_perturber;
#define PERTURB_SLEEP_NS 20000  /* pause between two rounds of signals */
#define PERTURB_MIGRATE_US 100  /* move the unpinned workers this often */
static uint64_t signals_sent, migrations_forced;
static uint64_t aborts_seen[MAX_CS];
static uint64_t inside_violations, sig_total;
static uint64_t failures;

#define FAIL(...)                                                        \
	do {                                                             \
		if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < 10) \
			fprintf(stderr, "FAIL: " __VA_ARGS__);           \
	} while (0)

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (cpu < 0) {
		for (int i = 0; i < ncpus; i++)
			CPU_SET(cpus[i], &set);
	} else {
		CPU_SET(cpu, &set);
	}
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		perror("sched_setaffinity");
		exit(2);
	}
}

static void *xalloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (!p) {
		perror("aligned_alloc");
		exit(2);
	}
	memset(p, 0, n);
	return p;
}

static void check_cpu(int64_t cpu, int t)
{
	if (cpu < 0 || cpu >= nslots)
		FAIL("thread %d: op returned cpu %lld outside [0,%d)\n", t, (long long)cpu, nslots);
	else if (pin_of[t] >= 0 && cpu != pin_of[t])
		FAIL("thread %d pinned to cpu %d but op used cpu %lld\n", t, pin_of[t], (long long)cpu);
}

/* ------------------------------------------------------- signal observer */

/* counter op: the handler itself adds NESTED_INC with counter_add (nested rseq use) */
#define NESTED_INC 1000000ull
static uint64_t *nested_counters;
static int64_t *nested_slots; /* cmpeqv op: the handler does one CAS increment */
static uint64_t nested_calls;

static void on_sigusr1(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ctx;
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	__atomic_fetch_add(&sig_total, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n_cs; i++) {
		if (rip - cs_start[i] < cs_len[i])
			__atomic_fetch_add(&inside_violations, 1, __ATOMIC_RELAXED);
		if (rip == cs_abort[i])
			__atomic_fetch_add(&aborts_seen[i], 1, __ATOMIC_RELAXED);
	}
	if (nested_counters) {
		counter_add(nested_counters, (int64_t)NESTED_INC);
		__atomic_fetch_add(&nested_calls, 1, __ATOMIC_RELAXED);
	}
	if (nested_slots) {
		for (;;) {
			int cpu = sched_getcpu();
			int64_t v = __atomic_load_n(&nested_slots[cpu], __ATOMIC_RELAXED);
			if (cmpeqv_storev(nested_slots, v, v + 1) == 0)
				break;
		}
		__atomic_fetch_add(&nested_calls, 1, __ATOMIC_RELAXED);
	}
}

/* The perturber: signals to random workers, and moves the unpinned workers. */
static void *perturber(void *arg)
{
	(void)arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	double next_move = now_ms();
	int round = 0;
	struct timespec pause = { 0, PERTURB_SLEEP_NS };
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (!__atomic_load_n(&stop_perturber, __ATOMIC_ACQUIRE)) {
		/* one signal to every worker, starting at a random one */
		int first = (int)(xorshift(&rng) % (uint64_t)nthreads);
		for (int i = 0; i < nthreads; i++)
			if (pthread_kill(tids[(first + i) % nthreads], SIGUSR1) == 0)
				signals_sent++;
		/* every PERTURB_MIGRATE_US: move each unpinned worker to the next CPU
		 * (or to "any CPU") of the cycle */
		if (now_ms() >= next_move) {
			next_move = now_ms() + PERTURB_MIGRATE_US / 1000.0;
			round++;
			for (int t = npinned; t < nthreads; t++) {
				cpu_set_t set;
				CPU_ZERO(&set);
				int k = (round + t) % (ncpus + 1);
				for (int i = 0; i < ncpus; i++)
					if (k == ncpus || k == i)
						CPU_SET(cpus[i], &set);
				if (pthread_setaffinity_np(tids[t], sizeof(set), &set) == 0)
					migrations_forced++;
			}
		}
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/* ------------------------------------------------------ thread machinery */

typedef void (*worker_fn)(int t);
static worker_fn current_worker;
static pthread_barrier_t start_barrier, end_barrier;

static void *worker_main(void *arg)
{
	int t = (int)(intptr_t)arg;
	pin_self(pin_of[t]);
	pthread_barrier_wait(&start_barrier);
	current_worker(t);
	/* stay alive (signalable) until the perturber has stopped */
	pthread_barrier_wait(&end_barrier);
	return NULL;
}

struct run_stats {
	double ms;
	long nivcsw, nvcsw;
};

static struct run_stats run_workers(worker_fn fn, int with_perturber)
{
	struct run_stats st;
	struct rusage r0, r1;
	pthread_t pt;
	current_worker = fn;
	stop_perturber = 0;
	pthread_barrier_init(&start_barrier, NULL, (unsigned)nthreads + 1);
	pthread_barrier_init(&end_barrier, NULL, (unsigned)nthreads + 1);
	getrusage(RUSAGE_SELF, &r0);
	for (int t = 0; t < nthreads; t++) {
		if (pthread_create(&tids[t], NULL, worker_main, (void *)(intptr_t)t) != 0) {
			perror("pthread_create");
			exit(2);
		}
	}
	double t0 = now_ms();
	pthread_barrier_wait(&start_barrier);
	if (with_perturber)
		pthread_create(&pt, NULL, perturber, NULL);
	pthread_barrier_wait(&end_barrier); /* all workers are done */
	st.ms = now_ms() - t0;
	if (with_perturber) {
		__atomic_store_n(&stop_perturber, 1, __ATOMIC_RELEASE);
		pthread_join(pt, NULL);
	}
	for (int t = 0; t < nthreads; t++)
		pthread_join(tids[t], NULL);
	getrusage(RUSAGE_SELF, &r1);
	st.nivcsw = r1.ru_nivcsw - r0.ru_nivcsw;
	st.nvcsw = r1.ru_nvcsw - r0.ru_nvcsw;
	pthread_barrier_destroy(&start_barrier);
	pthread_barrier_destroy(&end_barrier);
	return st;
}

static uint64_t total_aborts_seen(void)
{
	uint64_t s = 0;
	for (int i = 0; i < n_cs; i++)
		s += aborts_seen[i];
	return s;
}

static void print_common(const char *op, struct run_stats st)
{
	printf("RESULT op=%s ok=%d threads=%d pinned=%d cpus=%d ms=%.1f signals=%llu "
	       "signal_aborts=%llu inside_violations=%llu forced_migrations=%llu "
	       "nivcsw=%ld nvcsw=%ld failures=%llu",
	       op, failures == 0 && inside_violations == 0, nthreads, npinned, ncpus, st.ms,
	       (unsigned long long)sig_total, (unsigned long long)total_aborts_seen(),
	       (unsigned long long)inside_violations, (unsigned long long)migrations_forced,
	       st.nivcsw, st.nvcsw, (unsigned long long)failures);
}

/* ================================================================ counter */

/* Tight loops of counter_add(counters, t+1); the signal handler adds NESTED_INC on
 * the interrupted thread's CPU. A signal between a section's load and its commit
 * must abort it (else the handler's add is overwritten); a migration before start
 * must be caught by the cpu compare (else two CPUs update one counter). */
static uint64_t *counters;
static long counter_iters = 2500000;

static void counter_worker(int t)
{
	int64_t inc = t + 1;
	for (long i = 0; i < counter_iters; i++) {
		int64_t cpu = counter_add(counters, inc);
		if (__builtin_expect(cpu < 0 || cpu >= nslots || (pin_of[t] >= 0 && cpu != pin_of[t]), 0))
			check_cpu(cpu, t);
		if ((i & 4095) == 0)
			sched_yield();
	}
}

static int op_counter(void)
{
	counters = xalloc(sizeof(uint64_t) * (size_t)nslots);
	nested_counters = counters;
	struct run_stats st = run_workers(counter_worker, 1);
	nested_counters = NULL;
	uint64_t expected = 0, sum = 0;
	for (int t = 0; t < nthreads; t++)
		expected += (uint64_t)(t + 1) * (uint64_t)counter_iters;
	expected += nested_calls * NESTED_INC;
	for (int c = 0; c < nslots; c++)
		sum += counters[c];
	if (sum != expected)
		FAIL("counter sum %llu != expected %llu (lost %lld)\n", (unsigned long long)sum,
		     (unsigned long long)expected, (long long)(expected - sum));
	print_common("counter", st);
	printf(" calls=%ld handler_calls=%llu expected_sum=%llu sum=%llu lost=%lld per_cpu=",
	       counter_iters * nthreads, (unsigned long long)nested_calls,
	       (unsigned long long)expected, (unsigned long long)sum, (long long)(expected - sum));
	for (int i = 0; i < ncpus; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)counters[cpus[i]]);
	printf("\n");
	return failures == 0 && inside_violations == 0 ? 0 : 1;
}

/* ================================================================= cmpeqv */

/* Every thread (and the signal handler, nested) increments slots[cpu] by CAS:
 * v = slots[sched_getcpu()]; cmpeqv_storev(slots, v, v + 1) until it returns 0.
 * A success always adds exactly 1 to some slot, so the slot sum must equal the
 * number of successes. */
static int64_t *slots;
static long cmpeqv_successes = 1000000;
static uint64_t cmpeqv_fails;

static void cmpeqv_worker(int t)
{
	(void)t;
	uint64_t fails = 0;
	for (long done = 0; done < cmpeqv_successes;) {
		int cpu = sched_getcpu();
		int64_t v = __atomic_load_n(&slots[cpu], __ATOMIC_RELAXED);
		if (cmpeqv_storev(slots, v, v + 1) == 0) {
			done++;
			if (done % 256 == 0)
				sched_yield();
		} else {
			fails++;
		}
	}
	__atomic_fetch_add(&cmpeqv_fails, fails, __ATOMIC_RELAXED);
}

static int op_cmpeqv(void)
{
	slots = xalloc(sizeof(int64_t) * (size_t)nslots);
	/* semantics, single-threaded and pinned */
	pin_self(cpus[0]);
	slots[cpus[0]] = 5;
	if (cmpeqv_storev(slots, 4, 9) != 1 || slots[cpus[0]] != 5)
		FAIL("cmpeqv_storev(expect 4) on slot 5 did not return 1 / changed the slot\n");
	if (cmpeqv_storev(slots, 5, 9) != 0 || slots[cpus[0]] != 9)
		FAIL("cmpeqv_storev(expect 5) on slot 5 did not store 9 / return 0\n");
	slots[cpus[0]] = 0;
	pin_self(-1);

	nested_slots = slots;
	struct run_stats st = run_workers(cmpeqv_worker, 1);
	nested_slots = NULL;
	int64_t sum = 0, expected = (int64_t)cmpeqv_successes * nthreads + (int64_t)nested_calls;
	for (int c = 0; c < nslots; c++)
		sum += slots[c];
	if (sum != expected)
		FAIL("cmpeqv slot sum %lld != successful increments %lld\n", (long long)sum,
		     (long long)expected);
	print_common("cmpeqv", st);
	printf(" worker_successes=%lld handler_successes=%llu compare_failed=%llu sum=%lld\n",
	       (long long)cmpeqv_successes * nthreads, (unsigned long long)nested_calls,
	       (unsigned long long)cmpeqv_fails, (long long)sum);
	return failures == 0 && inside_violations == 0 ? 0 : 1;
}

/* =================================================================== list */

#define NODES_PER_THREAD 64
static struct node **heads;
static struct node *nodes;
static uint32_t *in_list; /* per node: 1 while it sits in some list */
static long list_iters = 600000;
static uint64_t list_pushes, list_pops, list_empty;

static void list_push_checked(struct node *n, int t)
{
	uint32_t zero = 0;
	if (!__atomic_compare_exchange_n(&in_list[n->payload], &zero, 1, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		FAIL("node %llu pushed while already in a list\n", (unsigned long long)n->payload);
	check_cpu(list_push(heads, n), t);
}

static void list_worker(int t)
{
	struct node *stash[NODES_PER_THREAD * MAX_THREADS];
	int nstash = 0;
	uint64_t rng = 0x2545f4914f6cdd1dull * (uint64_t)(t + 1);
	uint64_t pushes = 0, pops = 0, empty = 0;
	for (int i = 0; i < NODES_PER_THREAD; i++)
		stash[nstash++] = &nodes[t * NODES_PER_THREAD + i];
	for (long i = 0; i < list_iters; i++) {
		if (nstash > 0 && (xorshift(&rng) & 1)) {
			list_push_checked(stash[--nstash], t);
			pushes++;
		} else {
			struct node *n = list_pop(heads);
			if (!n) {
				empty++;
			} else {
				uint32_t one = 1;
				uint64_t id = n->payload;
				if (n < nodes || n >= nodes + (size_t)nthreads * NODES_PER_THREAD ||
				    id != (uint64_t)(n - nodes)) {
					FAIL("list_pop returned a bad node %p\n", (void *)n);
					continue;
				}
				if (!__atomic_compare_exchange_n(&in_list[id], &one, 0, 0,
								 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
					FAIL("node %llu popped twice\n", (unsigned long long)id);
				stash[nstash++] = n;
				pops++;
			}
		}
		if (i % 512 == 0)
			sched_yield();
	}
	/* give everything back so the final drain must find every node */
	while (nstash > 0) {
		list_push_checked(stash[--nstash], t);
		pushes++;
	}
	__atomic_fetch_add(&list_pushes, pushes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&list_pops, pops, __ATOMIC_RELAXED);
	__atomic_fetch_add(&list_empty, empty, __ATOMIC_RELAXED);
}

static int op_list(void)
{
	size_t nn = (size_t)nthreads * NODES_PER_THREAD;
	heads = xalloc(sizeof(*heads) * (size_t)nslots);
	nodes = xalloc(sizeof(*nodes) * nn);
	in_list = xalloc(sizeof(*in_list) * nn);
	for (size_t i = 0; i < nn; i++)
		nodes[i].payload = i;

	/* semantics, single-threaded and pinned */
	pin_self(cpus[0]);
	if (list_pop(heads) != NULL)
		FAIL("list_pop on an empty list did not return 0\n");
	if (list_push(heads, &nodes[0]) != cpus[0] || list_push(heads, &nodes[1]) != cpus[0] ||
	    heads[cpus[0]] != &nodes[1] || nodes[1].next != &nodes[0])
		FAIL("list_push did not link node 1 -> node 0 at heads[cpu]\n");
	if (list_pop(heads) != &nodes[1] || list_pop(heads) != &nodes[0] || list_pop(heads) != NULL ||
	    heads[cpus[0]] != NULL)
		FAIL("list_pop did not return node 1, node 0, then 0\n");
	pin_self(-1);

	struct run_stats st = run_workers(list_worker, 1);

	/* drain every CPU's list: every node must be found exactly once */
	uint8_t *seen = xalloc(nn);
	size_t found = 0;
	for (int i = 0; i < ncpus; i++) {
		pin_self(cpus[i]);
		struct node *n;
		size_t guard = 0;
		while ((n = list_pop(heads)) != NULL && guard++ <= nn) {
			uint64_t id = n->payload;
			if (id >= nn || n != &nodes[id]) {
				FAIL("drain found a bad node %p\n", (void *)n);
				break;
			}
			if (seen[id]++)
				FAIL("node %llu found twice in the lists\n", (unsigned long long)id);
			if (!in_list[id])
				FAIL("node %llu in a list but not marked pushed\n", (unsigned long long)id);
			found++;
		}
	}
	pin_self(-1);
	for (int c = 0; c < nslots; c++)
		if (heads[c] != NULL)
			FAIL("heads[%d] not empty after drain\n", c);
	if (found != nn)
		FAIL("drain found %zu nodes, expected %zu\n", found, nn);
	if (list_pushes != list_pops + nn)
		FAIL("pushes %llu != pops %llu + nodes %zu\n", (unsigned long long)list_pushes,
		     (unsigned long long)list_pops, nn);
	print_common("list", st);
	printf(" nodes=%zu pushes=%llu pops=%llu empty_pops=%llu drained=%zu\n", nn,
	       (unsigned long long)list_pushes, (unsigned long long)list_pops,
	       (unsigned long long)list_empty, found);
	return failures == 0 && inside_violations == 0 ? 0 : 1;
}

/* ======================================================= buffer / memcpy */

/* Both buffers run in rounds: all workers push (up to PUSH_PER_ROUND items each,
 * stopping at the first "full"), then main checks that the buffers hold exactly
 * the items whose push returned 0, each once (and intact), and empties them. */
#define PUSH_PER_ROUND 8
static long rounds = 1500;
static pthread_barrier_t round_barrier;
static struct cpu_buffer *bufs;
static struct cpu_membuf *mbufs;
static uint8_t pushed_ok[MAX_THREADS][PUSH_PER_ROUND];
static uint64_t items_pushed, full_returns;
static int use_memcpy;

static uint64_t item_id(long round, int t, int k)
{
	return ((uint64_t)round << 16) | ((uint64_t)t << 8) | (uint64_t)k;
}

static void item_bytes(uint64_t id, uint8_t out[16])
{
	uint64_t a = id, b = ~(id * 0x9e3779b97f4a7c15ull);
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

static void buffer_worker(int t)
{
	uint64_t pushed = 0, full = 0;
	for (long r = 0; r < rounds; r++) {
		pthread_barrier_wait(&round_barrier); /* buffers are empty */
		for (int k = 0; k < PUSH_PER_ROUND; k++) {
			uint64_t id = item_id(r, t, k);
			int64_t rc;
			if (use_memcpy) {
				uint8_t item[16];
				item_bytes(id, item);
				rc = memcpy_buffer_push(mbufs, item);
			} else {
				rc = buffer_push(bufs, id);
			}
			pushed_ok[t][k] = rc == 0;
			if (rc != 0) {
				if (rc != 1)
					FAIL("push returned %lld\n", (long long)rc);
				full++;
				for (k++; k < PUSH_PER_ROUND; k++)
					pushed_ok[t][k] = 0;
				break;
			}
			pushed++;
			if (((unsigned)r + (unsigned)k + (unsigned)t) % 16 == 0)
				sched_yield();
		}
		pthread_barrier_wait(&round_barrier); /* main checks */
	}
	__atomic_fetch_add(&items_pushed, pushed, __ATOMIC_RELAXED);
	__atomic_fetch_add(&full_returns, full, __ATOMIC_RELAXED);
}

static void *buffer_workers_thread(void *arg)
{
	*(struct run_stats *)arg = run_workers(buffer_worker, 1);
	return NULL;
}

static void check_round(long r)
{
	uint8_t seen[MAX_THREADS][PUSH_PER_ROUND];
	int expected = 0, found = 0;
	memset(seen, 0, sizeof(seen));
	for (int t = 0; t < nthreads; t++)
		for (int k = 0; k < PUSH_PER_ROUND; k++)
			expected += pushed_ok[t][k];
	for (int c = 0; c < nslots; c++) {
		uint64_t count = use_memcpy ? mbufs[c].count : bufs[c].count;
		uint64_t cap = use_memcpy ? mbufs[c].capacity : bufs[c].capacity;
		if (count > cap) {
			FAIL("round %ld cpu %d: count %llu > capacity %llu\n", r, c,
			     (unsigned long long)count, (unsigned long long)cap);
			count = cap;
		}
		for (uint64_t i = 0; i < count; i++) {
			uint64_t id;
			if (use_memcpy) {
				uint8_t want[16];
				memcpy(&id, &mbufs[c].data[16 * i], 8);
				item_bytes(id, want);
				if (memcmp(want, &mbufs[c].data[16 * i], 16) != 0)
					FAIL("round %ld cpu %d item %llu: bytes corrupted\n", r, c,
					     (unsigned long long)i);
			} else {
				id = bufs[c].slots[i];
			}
			long ir = (long)(id >> 16);
			int t = (int)((id >> 8) & 0xff), k = (int)(id & 0xff);
			if (ir != r || t >= nthreads || k >= PUSH_PER_ROUND || !pushed_ok[t][k]) {
				FAIL("round %ld cpu %d: unexpected item %#llx\n", r, c,
				     (unsigned long long)id);
				continue;
			}
			if (seen[t][k]++)
				FAIL("round %ld: item %#llx present twice\n", r, (unsigned long long)id);
			found++;
		}
		if (use_memcpy)
			mbufs[c].count = 0;
		else
			bufs[c].count = 0;
	}
	if (found != expected)
		FAIL("round %ld: %d items in the buffers, %d pushes succeeded\n", r, found, expected);
}

static int op_buffer(int memcpy_variant)
{
	use_memcpy = memcpy_variant;
	if (use_memcpy) {
		mbufs = xalloc(sizeof(*mbufs) * (size_t)nslots);
		for (int c = 0; c < nslots; c++)
			mbufs[c].capacity = 15;
	} else {
		bufs = xalloc(sizeof(*bufs) * (size_t)nslots);
		for (int c = 0; c < nslots; c++)
			bufs[c].capacity = 14;
	}

	/* semantics, single-threaded and pinned: fill one CPU to capacity, then "full" */
	pin_self(cpus[0]);
	uint64_t cap = use_memcpy ? 15 : 14;
	for (uint64_t i = 0; i < cap; i++) {
		uint8_t item[16];
		item_bytes(i, item);
		if ((use_memcpy ? memcpy_buffer_push(mbufs, item) : buffer_push(bufs, i)) != 0)
			FAIL("push %llu into a non-full buffer did not return 0\n", (unsigned long long)i);
	}
	{
		uint8_t item[16];
		item_bytes(99, item);
		if ((use_memcpy ? memcpy_buffer_push(mbufs, item) : buffer_push(bufs, 99)) != 1)
			FAIL("push into a full buffer did not return 1\n");
	}
	for (uint64_t i = 0; i < cap; i++) {
		uint8_t want[16];
		item_bytes(i, want);
		if (use_memcpy ? memcmp(&mbufs[cpus[0]].data[16 * i], want, 16) != 0
			       : bufs[cpus[0]].slots[i] != i)
			FAIL("item %llu not stored in order\n", (unsigned long long)i);
	}
	if ((use_memcpy ? mbufs[cpus[0]].count : bufs[cpus[0]].count) != cap)
		FAIL("count is not capacity after filling\n");
	if (use_memcpy)
		mbufs[cpus[0]].count = 0;
	else
		bufs[cpus[0]].count = 0;
	pin_self(-1);

	struct run_stats st;
	pthread_t runner;
	pthread_barrier_init(&round_barrier, NULL, (unsigned)nthreads + 1);
	pthread_create(&runner, NULL, buffer_workers_thread, &st);
	for (long r = 0; r < rounds; r++) {
		pthread_barrier_wait(&round_barrier);
		pthread_barrier_wait(&round_barrier);
		check_round(r);
	}
	pthread_join(runner, NULL);
	pthread_barrier_destroy(&round_barrier);
	print_common(use_memcpy ? "memcpy" : "buffer", st);
	printf(" rounds=%ld items_pushed=%llu full_returns=%llu capacity_per_cpu=%llu\n", rounds,
	       (unsigned long long)items_pushed, (unsigned long long)full_returns,
	       (unsigned long long)cap);
	return failures == 0 && inside_violations == 0 ? 0 : 1;
}

/* ================================================================= probe */

static int load_tables(int verbose)
{
	struct rseq_cs_desc **p = __start___rseq_cs_ptr_array, **e = __stop___rseq_cs_ptr_array;
	int bad = 0;
	n_cs = 0;
	if (!p || !e || p == e) {
		fprintf(stderr, "no __rseq_cs_ptr_array section found\n");
		return 1;
	}
	for (; p < e && n_cs < MAX_CS; p++) {
		struct rseq_cs_desc *d = *p;
		uint32_t sig;
		memcpy(&sig, (const void *)(uintptr_t)(d->abort_ip - 4), 4);
		cs_start[n_cs] = d->start_ip;
		cs_len[n_cs] = d->post_commit_offset;
		cs_abort[n_cs] = d->abort_ip;
		int ok = ((uintptr_t)d % 32 == 0) && d->version == 0 && d->flags == 0 &&
			 d->post_commit_offset > 0 &&
			 d->abort_ip - d->start_ip >= d->post_commit_offset && sig == RSEQ_SIG;
		if (verbose)
			printf("desc %d @%p start=%#llx len=%llu abort=%#llx sig=%#x %s\n", n_cs,
			       (void *)d, (unsigned long long)d->start_ip,
			       (unsigned long long)d->post_commit_offset,
			       (unsigned long long)d->abort_ip, sig, ok ? "ok" : "BAD");
		bad += !ok;
		n_cs++;
	}
	for (uint64_t *x = __start___rseq_exit_point_array;
	     x && x < __stop___rseq_exit_point_array; x += 2) {
		int owner = -1;
		for (int i = 0; i < n_cs; i++)
			if (cs_start[i] == x[0])
				owner = i;
		int ok = owner >= 0 && x[1] - cs_start[owner] >= cs_len[owner];
		if (verbose)
			printf("exit point start=%#llx exit=%#llx %s\n", (unsigned long long)x[0],
			       (unsigned long long)x[1], ok ? "ok" : "BAD");
		bad += !ok;
	}
	return bad;
}

static int op_probe(void)
{
	int bad = load_tables(1);
	pin_self(cpus[0]);
	volatile struct rseq *rs =
		(volatile struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	int cpu = sched_getcpu();
	printf("rseq_size=%u rseq_offset=%td cpu_id=%u cpu_id_start=%u sched_getcpu=%d\n",
	       __rseq_size, __rseq_offset, rs->cpu_id, rs->cpu_id_start, cpu);
	if ((int)rs->cpu_id != cpus[0] || cpu != cpus[0]) {
		fprintf(stderr, "rseq area cpu_id does not match the pinned cpu\n");
		bad++;
	}
	printf("RESULT op=probe ok=%d descriptors=%d cpus=%d\n", bad == 0, n_cs, ncpus);
	return bad ? 1 : 0;
}

/* ================================================================== main */

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: %s probe|counter|cmpeqv|list|buffer|memcpy\n",
			argv[0]);
		return 2;
	}
	const char *op = argv[1];
	if (__rseq_size == 0) {
		printf("SKIP: glibc did not register rseq (__rseq_size == 0; "
		       "GLIBC_TUNABLES=glibc.pthread.rseq=0 or kernel without rseq)\n");
		return 77;
	}

	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		perror("sched_getaffinity");
		return 2;
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[ncpus++] = c;
	nslots = get_nprocs_conf();
	if (nslots < cpus[ncpus - 1] + 1)
		nslots = cpus[ncpus - 1] + 1;

	/* 2 pinned threads per CPU (round-robin) + 2 unpinned */
	npinned = 2 * ncpus;
	if (npinned > MAX_THREADS - 2)
		npinned = MAX_THREADS - 2;
	nthreads = npinned + 2;
	for (int t = 0; t < nthreads; t++)
		pin_of[t] = t < npinned ? cpus[t % ncpus] : -1;

	if (load_tables(0) != 0 && strcmp(op, "probe") != 0) {
		fprintf(stderr, "descriptor tables are not sane (run 'probe')\n");
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigusr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	/* optional scaling for quick runs: ops-harness OP [scale-percent] */
	double scale = argc > 2 ? atof(argv[2]) / 100.0 : 1.0;
	if (scale <= 0)
		scale = 1.0;
	counter_iters = (long)(counter_iters * scale);
	cmpeqv_successes = (long)(cmpeqv_successes * scale);
	list_iters = (long)(list_iters * scale);
	rounds = (long)(rounds * scale);

	if (!strcmp(op, "probe"))
		return op_probe();
	if (!strcmp(op, "counter"))
		return op_counter();
	if (!strcmp(op, "cmpeqv"))
		return op_cmpeqv();
	if (!strcmp(op, "list"))
		return op_list();
	if (!strcmp(op, "buffer"))
		return op_buffer(0);
	if (!strcmp(op, "memcpy"))
		return op_buffer(1);
	fprintf(stderr, "unknown op %s\n", op);
	return 2;
}
