/*
 * check_main.c - runs every suite; exits non-zero if any test failed.
 * Select with CK_RUN_SUITE=queue or CK_RUN_CASE=... (Check's own variables).
 */
#include "suites.h"

#include <stdlib.h>

int
main(void)
{
	SRunner *runner = srunner_create(queue_suite());
	srunner_add_suite(runner, http_suite());
	srunner_add_suite(runner, registry_suite());
	srunner_add_suite(runner, ws_suite());
	srunner_add_suite(runner, routes_suite());
	srunner_add_suite(runner, bridge_url_suite());
	srunner_add_suite(runner, server_suite());
	srunner_add_suite(runner, wsserver_suite());
	srunner_add_suite(runner, sse_suite());
	srunner_add_suite(runner, channels_suite());
	srunner_add_suite(runner, lab_suite());
	srunner_add_suite(runner, redis_suite());
	srunner_add_suite(runner, stress_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
