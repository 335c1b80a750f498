/*
 * clock.h - the two clocks the server reads: a monotonic one for deadlines
 * and ages, and the wall clock for when a message was sent.
 * Thread-safety: both from any thread.
 */
#ifndef PUSHQ_CLOCK_H
#define PUSHQ_CLOCK_H

#include <stdint.h>

/* Seconds on CLOCK_MONOTONIC: for deadlines and ages, never for dates. */
double srv_monotonic(void);

/* Milliseconds since 1970 on the wall clock (CLOCK_REALTIME). */
uint64_t srv_wall_clock_ms(void);

#endif
