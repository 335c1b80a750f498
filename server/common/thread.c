/* thread.c - a thread's first steps (see thread.h). */
#define _GNU_SOURCE /* SCHED_BATCH */

#include "server/common/thread.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

void
srv_block_stop_signals(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
}

void
srv_sched_batch(void)
{
#ifdef SCHED_BATCH
	struct sched_param none = { 0 };
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
#endif
}
