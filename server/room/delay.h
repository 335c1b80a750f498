/*
 * delay.h - how long messages take from being sent (sent_at) to being
 * written to a client's socket: a histogram, cumulative as Prometheus
 * wants it, kept with atomics (no lock on the delivery path).
 * Thread-safety: observe from any thread; reads see a moment's counts.
 */
#ifndef PUSHQ_DELAY_H
#define PUSHQ_DELAY_H

#include <stdatomic.h>
#include <stdint.h>

#define SRV_DELAY_BUCKETS 13

/* The buckets' upper bounds in seconds (the last is +Inf). */
extern const double srv_delay_bounds[SRV_DELAY_BUCKETS];

typedef struct {
	atomic_ullong in_bucket[SRV_DELAY_BUCKETS];   /* not cumulative: each its own */
	atomic_ullong count;
	atomic_ullong sum_us;                          /* microseconds in all */
} srv_delay;

/* One delivery that took `ms` milliseconds. */
void srv_delay_observe(srv_delay *h, uint64_t ms);

#endif
