#define _GNU_SOURCE /* SCHED_BATCH */

/*
 * socket_floor.c - the second floor of thread-per-connection long polling:
 * the socket sleep.  A long poll costs its thread two sleeps per delivery:
 * in the queue (bench/wakeup_floor.c measures that one) and in recv, for
 * the client's next request.  This is the second: N threads each blocked in
 * recv on its own loopback TCP connection, woken by one write each (the
 * client's next request, one byte) and answering it (one byte back).
 *
 * A child process plays the N clients (two processes, so that each holds
 * only N sockets): each round it writes one byte to every connection, one
 * after another, and collects the N answers with epoll.  For every wake-up: the time from the round's start to the moment
 * that thread returned from recv (p50, p99), and the time until the last
 * answer was back; the CPU time of the N server threads only (each thread's
 * own CLOCK_THREAD_CPUTIME_ID, summed), per wake-up, as fanout counts the
 * server's CPU and not its own.  No HTTP, no queue: pushq's long-poll
 * delivery at the same N cannot be cheaper than this plus the condvar floor.
 *
 * usage: socket_floor N [ROUNDS]
 * The last line is "RESULT n=N p50=MS p99=MS last_p99=MS cpu_us=US".
 * Everything is on 127.0.0.1; every wait is bounded.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVER_STACK (128 * 1024)   /* as pushq's connection threads */
#define ROUND_DEADLINE 30.0          /* seconds for every answer of a round */

static long n_threads, n_rounds;
static int *server_fd;              /* [i]: thread i's end (the parent's) */
static int *client_fd;              /* [i]: the child's end */
static double *woke_at;             /* [round * N + i]: seconds after start */
static double *round_start;         /* shared with the child, which writes it */
static double *last;                /* [round]: the last answer back (the child's) */
static double *thread_cpu;          /* [i]: CPU seconds thread i used in the rounds */

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
thread_cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "socket_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* As pushq's connection threads (README, "Threads"): SCHED_BATCH. */
static void
batch_policy(void)
{
	struct sched_param none = { 0 };
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
}

static void *
server_main(void *arg)
{
	long i = (long)arg;
	batch_policy();
	double cpu0 = thread_cpu_seconds();
	for (long r = 0; r < n_rounds; r++) {
		char byte;
		ssize_t got = recv(server_fd[i], &byte, 1, 0);   /* the long poll's second sleep */
		if (got != 1)
			break;
		/* CLOCK_MONOTONIC is the machine's: the child's round start and
		 * this thread's wake-up are on the same clock. */
		woke_at[r * n_threads + i] = now() - round_start[r];
		if (send(server_fd[i], &byte, 1, MSG_NOSIGNAL) != 1)   /* the answer */
			break;
	}
	thread_cpu[i] = thread_cpu_seconds() - cpu0;
	return NULL;
}

/* A listening loopback socket on a free port; its address in ADDR. */
static int
listen_loopback(struct sockaddr_in *addr)
{
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	*addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(*addr);
	if (listener < 0 || bind(listener, (struct sockaddr *)addr, sizeof(*addr)) != 0 ||
	    listen(listener, 4096) != 0 || getsockname(listener, (struct sockaddr *)addr, &len) != 0)
		die("listen");
	struct timeval bound = { 30, 0 };   /* accept gives up if the child died */
	setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
	return listener;
}

static void
no_delay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
raise_fd_limit(long need)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)need) {
		lim.rlim_cur = (rlim_t)need < lim.rlim_max ? (rlim_t)need : lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

/* One round: a byte to every connection, then every answer; returns when
 * the last answer is in (seconds after the round's start). */
static double
run_round(long r, int ep)
{
	round_start[r] = now();
	for (long i = 0; i < n_threads; i++)
		if (send(client_fd[i], "x", 1, MSG_NOSIGNAL) != 1)
			die("send");
	long answers = 0;
	double deadline = round_start[r] + ROUND_DEADLINE;
	struct epoll_event events[512];
	while (answers < n_threads) {
		if (now() > deadline) {
			fprintf(stderr, "socket_floor: round %ld: %ld of %ld answers\n", r, answers, n_threads);
			exit(1);
		}
		int n = epoll_wait(ep, events, 512, 1000);
		for (int e = 0; e < n; e++) {
			char byte;
			if (recv(client_fd[events[e].data.u64], &byte, 1, MSG_DONTWAIT) == 1)
				answers++;
		}
	}
	return now() - round_start[r];
}

/* The child: N connections to the parent, then the rounds; 0 if every
 * answer came back. */
static int
run_clients(const struct sockaddr_in *addr, int ready)
{
	int ep = epoll_create1(0);
	for (long i = 0; i < n_threads; i++) {
		client_fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (client_fd[i] < 0 || connect(client_fd[i], (const struct sockaddr *)addr, sizeof(*addr)) != 0)
			die("connect");
		no_delay(client_fd[i]);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, client_fd[i], &ev) != 0)
			die("epoll_ctl");
	}
	char byte;
	if (read(ready, &byte, 1) != 1)   /* every server thread started */
		die("read");
	struct timespec settle = { 0, 200 * 1000 * 1000 };  /* let them all sleep in recv */
	nanosleep(&settle, NULL);
	for (long r = 0; r < n_rounds; r++) {
		last[r] = run_round(r, ep);
		nanosleep(&settle, NULL);   /* every thread is in recv again */
	}
	for (long i = 0; i < n_threads; i++)
		close(client_fd[i]);
	return 0;
}

/* N doubles the parent and the child both see (mapped before the fork). */
static double *
shared_doubles(long n)
{
	void *p = mmap(NULL, (size_t)n * sizeof(double), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
percentile(double *sorted, long n, double p)
{
	return sorted[(long)(p * (double)(n - 1))];
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: socket_floor N [ROUNDS]\n");
		return 2;
	}
	n_threads = atol(argv[1]);
	n_rounds = argc > 2 ? atol(argv[2]) : 20;
	if (n_threads < 1 || n_threads > 100000 || n_rounds < 1 || n_rounds > 10000)
		return 2;
	raise_fd_limit(2 * n_threads + 64);
	server_fd = calloc((size_t)n_threads, sizeof(*server_fd));
	client_fd = calloc((size_t)n_threads, sizeof(*client_fd));
	woke_at = calloc((size_t)(n_threads * n_rounds), sizeof(*woke_at));
	round_start = shared_doubles(n_rounds);
	last = shared_doubles(n_rounds);
	thread_cpu = calloc((size_t)n_threads, sizeof(*thread_cpu));
	pthread_t *threads = calloc((size_t)n_threads, sizeof(*threads));
	if (!server_fd || !client_fd || !woke_at || !round_start || !thread_cpu || !last || !threads)
		return 1;
	struct sockaddr_in addr;
	int listener = listen_loopback(&addr);
	int ready[2];                       /* the parent says: every thread is in recv */
	if (pipe(ready) != 0)
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(listener);
		close(ready[1]);
		return run_clients(&addr, ready[0]);
	}
	close(ready[0]);
	for (long i = 0; i < n_threads; i++) {
		server_fd[i] = accept(listener, NULL, NULL);
		if (server_fd[i] < 0) {
			kill(child, SIGTERM);
			die("accept");
		}
		no_delay(server_fd[i]);
	}
	close(listener);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SERVER_STACK);
	for (long i = 0; i < n_threads; i++)
		if (pthread_create(&threads[i], &attr, server_main, (void *)i) != 0) {
			fprintf(stderr, "socket_floor: cannot start thread %ld\n", i);
			kill(child, SIGTERM);
			return 1;
		}
	if (write(ready[1], "r", 1) != 1)
		die("write");
	int status = 1;
	waitpid(child, &status, 0);   /* the child closes its ends: every recv returns 0 */
	double cpu = 0;
	for (long i = 0; i < n_threads; i++) {
		pthread_join(threads[i], NULL);
		cpu += thread_cpu[i];
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;

	long total = n_threads * n_rounds;
	qsort(woke_at, (size_t)total, sizeof(double), compare_double);
	qsort(last, (size_t)n_rounds, sizeof(double), compare_double);
	double p50 = percentile(woke_at, total, 0.50) * 1e3, p99 = percentile(woke_at, total, 0.99) * 1e3;
	double last_p99 = percentile(last, n_rounds, 0.99) * 1e3;
	double cpu_us = cpu / (double)total * 1e6;
	printf("  %ld threads each in recv on its own loopback socket, woken by one byte and answering, %ld rounds:\n"
	       "  wake-up p50 %.3f ms, p99 %.3f ms; all %ld answers back p99 %.3f ms; server threads' CPU %.2f us per wake-up\n",
	       n_threads, n_rounds, p50, p99, n_threads, last_p99, cpu_us);
	printf("RESULT n=%ld p50=%.3f p99=%.3f last_p99=%.3f cpu_us=%.2f\n", n_threads, p50, p99, last_p99, cpu_us);
	return 0;
}
