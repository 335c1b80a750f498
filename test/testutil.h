/*
 * testutil.h - small helpers shared by the test suites.
 * Tests never sleep and hope: they wait for a condition with a deadline.
 */
#ifndef PUSHQ_TEST_UTIL_H
#define PUSHQ_TEST_UTIL_H

#include <stdbool.h>

/* Seconds on CLOCK_MONOTONIC. */
double tu_now(void);

/* Polls cond(arg) every millisecond until it is true (returns true) or
 * `seconds` have passed (returns false). */
bool tu_wait_until(bool (*cond)(void *arg), void *arg, double seconds);

#endif
