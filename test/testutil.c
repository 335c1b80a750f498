/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <time.h>

double
tu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
tu_wait_until(bool (*cond)(void *arg), void *arg, double seconds)
{
	double deadline = tu_now() + seconds;
	struct timespec tick = { 0, 1000000 };
	while (!cond(arg)) {
		if (tu_now() > deadline)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}
