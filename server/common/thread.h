/*
 * thread.h - what every thread the server starts does first: block the
 * stop signals, and (connection threads) ask the scheduler not to preempt
 * the thread that woke them.
 */
#ifndef PUSHQ_THREAD_H
#define PUSHQ_THREAD_H

/*
 * Blocks SIGINT and SIGTERM in the calling thread.  Every thread the server
 * starts calls it first thing (they also inherit the mask from main, but
 * saying it where the thread starts is clearer, and valgrind needs it), so
 * only main's signalfd ever sees a stop signal.
 */
void srv_block_stop_signals(void);

/*
 * Puts the calling thread under SCHED_BATCH (Linux): the scheduler stops
 * letting a thread that was just woken preempt the one that woke it.  A
 * broadcast wakes hundreds of connection threads; without this each wake-up
 * can switch away from the broadcaster at once, and back.  Measured on the
 * long-poll fan-out (bench/fanout lp, N=1,000, five runs each): CPU per
 * delivery 27.5 -> 23.0 us.  Threads keep their priority (nice) and every
 * thread still runs; only the preemption on wake-up changes.  Does nothing
 * where SCHED_BATCH is missing.
 */
void srv_sched_batch(void);

#endif
