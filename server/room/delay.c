/* delay.c - the delivery delay histogram (see delay.h). */
#include "server/room/delay.h"

#include <math.h>

const double srv_delay_bounds[SRV_DELAY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, INFINITY,
};

void
srv_delay_observe(srv_delay *h, uint64_t ms)
{
	if (ms > 86400000)
		ms = 0;                   /* a clock that went back (Redis's): not a delay */
	double seconds = (double)ms / 1000.0;
	int i = 0;
	while (i < SRV_DELAY_BUCKETS - 1 && seconds > srv_delay_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->in_bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, ms * 1000, memory_order_relaxed);
}
