/*
 * suites.h - every Check suite of pushq, run together by check_main.c.
 * One suite per module (check_<module>.c exports <module>_suite()).
 */
#ifndef PUSHQ_TEST_SUITES_H
#define PUSHQ_TEST_SUITES_H

#include <check.h>

Suite *queue_suite(void);
Suite *http_suite(void);
Suite *registry_suite(void);
Suite *ws_suite(void);
Suite *server_suite(void);
Suite *wsserver_suite(void);
Suite *sse_suite(void);
Suite *lab_suite(void);
Suite *jwt_suite(void);
Suite *tokens_suite(void);
Suite *redis_suite(void);
Suite *stress_suite(void);
Suite *routes_suite(void);
Suite *bridge_url_suite(void);
Suite *channels_suite(void);
Suite *auth_suite(void);

/* The channels suite's presence cases (check_presence.c). */
TCase *presence_tcase(void);

#endif
