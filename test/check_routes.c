/*
 * check_routes.c - the route table (server/routes.c, core/route.c) against
 * docs/api.md: every API path, with and without its trailing slash, finds
 * its own route with exactly the methods the API gives; near misses fall to
 * the static files; the Allow text of each method set.  Then the same over
 * real sockets: every method a route does not take is 405 with that Allow,
 * and HEAD where it is allowed is answered.
 */
#include "suites.h"
#include "testutil.h"

#include "server/routes.h"
#include "server/lab/lab_http.h"

#include <stdio.h>
#include <string.h>

#define GHP (SRV_M_GET | SRV_M_HEAD | SRV_M_POST)
#define GH  (SRV_M_GET | SRV_M_HEAD)
#define G   SRV_M_GET
#define P   SRV_M_POST

/* docs/api.md's HTTP API: each path, its methods, and a target with which
 * an allowed HEAD answers at once (no wait, no upgrade needed). */
static const struct {
	const char *path;
	unsigned methods;
	const char *allow;
	const char *target;
} api[] = {
	{ "/ab_dy",         GHP, "GET, HEAD, POST", "/ab_dy" },
	{ "/ab_b1",         GH,  "GET, HEAD",       "/ab_b1?name=r" },
	{ "/send_msg",      P,   "POST",            "/send_msg" },
	{ "/get_msg",       GH,  "GET, HEAD",       "/get_msg?name=nobody&timeout=0" },
	{ "/stats",         GH,  "GET, HEAD",       "/stats" },
	{ "/ws",            G,   "GET",             "/ws?name=r" },
	{ "/ws/echo",       G,   "GET",             "/ws/echo" },
	{ "/ws/accept",     GH,  "GET, HEAD",       "/ws/accept?key=dGhlIHNhbXBsZSBub25jZQ%3D%3D" },
	{ "/events",        G,   "GET",             "/events?name=r" },
	{ "/lab/new",       P,   "POST",            "/lab/new" },
	{ "/lab/state",     GH,  "GET, HEAD",       "/lab/state?q=none" },
	{ "/lab/put",       P,   "POST",            "/lab/put" },
	{ "/lab/get",       P,   "POST",            "/lab/get" },
	{ "/lab/task_done", P,   "POST",            "/lab/task_done" },
	{ "/lab/join",      P,   "POST",            "/lab/join" },
	{ "/lab/shutdown",  P,   "POST",            "/lab/shutdown" },
	{ "/lab/delete",    P,   "POST",            "/lab/delete" },
	{ "/lab/list",      GH,  "GET, HEAD",       "/lab/list" },
	{ "/lab/purge",     P,   "POST",            "/lab/purge" },
};
#define API_COUNT (sizeof(api) / sizeof(api[0]))

static const srv_route *
find(const char *path)
{
	const srv_route *r = srv_route_find(path, strlen(path));
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(r->path);
	ck_assert_ptr_nonnull(r->view);
	return r;
}

/* ------------------------------------------------------------ unit */

START_TEST(every_api_path_finds_its_route)
{
	for (size_t i = 0; i < API_COUNT; i++) {
		char slash[64];
		snprintf(slash, sizeof(slash), "%s/", api[i].path);
		const srv_route *r = find(api[i].path);
		ck_assert_str_eq(r->path, api[i].path);
		ck_assert_msg(r->methods == api[i].methods, "%s: methods %#x, wanted %#x",
		              api[i].path, r->methods, api[i].methods);
		ck_assert_msg(find(slash) == r, "%s does not find %s's route", slash, api[i].path);
	}
}
END_TEST

/* srv_route_find reads path[0..len) only: a request's path is not
 * NUL-terminated before its query. */
START_TEST(find_reads_only_len_bytes)
{
	const char *target = "/ws/echo?x=1";
	ck_assert_str_eq(srv_route_find(target, 8)->path, "/ws/echo");
	ck_assert_str_eq(srv_route_find(target, 4)->path, "/ws");     /* "/ws/" */
	ck_assert_str_eq(srv_route_find(target, 3)->path, "/ws");
	ck_assert_str_eq(srv_route_find("/stats/x", 7)->path, "/stats");
	ck_assert_str_eq(srv_route_find("/stats/x", 8)->path, "/");
	ck_assert_str_eq(srv_route_find("/lab/new", 4)->path, "/");   /* "/lab" */
}
END_TEST

/* Every lab route the lab hands up is one docs/api.md lists. */
START_TEST(lab_table_is_the_documented_one)
{
	size_t documented = 0;
	for (size_t i = 0; i < API_COUNT; i++)
		documented += strncmp(api[i].path, "/lab/", 5) == 0;
	ck_assert_uint_eq(srv_lab_route_count, documented);
	for (size_t i = 0; i < srv_lab_route_count; i++) {
		size_t j = 0;
		while (j < API_COUNT && strcmp(api[j].path, srv_lab_routes[i].path) != 0)
			j++;
		ck_assert_msg(j < API_COUNT, "lab route %s is not in docs/api.md", srv_lab_routes[i].path);
		ck_assert_uint_eq(srv_lab_routes[i].methods, api[j].methods);
		ck_assert_ptr_eq(find(srv_lab_routes[i].path), &srv_lab_routes[i]);
	}
}
END_TEST

START_TEST(near_misses_are_static_files)
{
	static const char *const misses[] = {
		"/", "/index.html", "/ab_dyx", "/ab_dy//", "/ab_d", "/get_msg//", "/get_msgs",
		"/ws/echoo", "/ws/accept/x", "/wss", "/lab", "/lab/", "/lab/news",
		"/lab/state//", "/stats.json", "/STATS", "/events.html", "//stats", "",
	};
	const srv_route *files = find("/no-such-page.html");
	ck_assert_str_eq(files->path, "/");
	ck_assert_uint_eq(files->methods, GH);
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
		const srv_route *r = find(misses[i]);
		ck_assert_msg(r == files, "'%s' found route %s", misses[i], r->path);
	}
}
END_TEST

START_TEST(allow_texts)
{
	static const struct { unsigned methods; const char *text; } cases[] = {
		{ GHP, "GET, HEAD, POST" },
		{ P,   "POST" },
		{ G,   "GET" },
		{ GH,  "GET, HEAD" },
		{ SRV_M_HEAD, "HEAD" },
		{ SRV_M_HEAD | SRV_M_POST, "HEAD, POST" },
		{ SRV_M_GET | SRV_M_POST, "GET, POST" },
		{ 0, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[32];
		memset(out, 'x', sizeof(out));
		srv_route_allow(cases[i].methods, out, sizeof(out));
		ck_assert_str_eq(out, cases[i].text);
	}
	/* Each API route's own methods give the text the API lists. */
	for (size_t i = 0; i < API_COUNT; i++) {
		char out[32];
		srv_route_allow(find(api[i].path)->methods, out, sizeof(out));
		ck_assert_str_eq(out, api[i].allow);
	}
	/* A short buffer is cut, never overrun. */
	char small[5] = "zzzz";
	srv_route_allow(GHP, small, 4);
	ck_assert_str_eq(small, "GET");
}
END_TEST

/* ----------------------------------------------------- integration */

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "BREW" };

static unsigned
bit_of(const char *method)
{
	return strcmp(method, "GET") == 0 ? SRV_M_GET : strcmp(method, "HEAD") == 0 ? SRV_M_HEAD
	       : strcmp(method, "POST") == 0 ? SRV_M_POST : 0;
}

/* Every method a route does not take, on its path and with the trailing
 * slash: 405 with exactly its Allow.  HEAD where it is taken: answered,
 * not 405, without a body. */
START_TEST(wrong_methods_get_405_with_allow)
{
	tu_server server = tu_server_start(NULL);
	int checked = 0;
	for (size_t i = 0; i < API_COUNT; i++) {
		for (int slash = 0; slash <= 1; slash++) {
			char target[128];
			const char *query = strchr(api[i].target, '?');
			snprintf(target, sizeof(target), "%s%s%s", api[i].path, slash ? "/" : "",
			         query != NULL ? query : "");
			for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
				if (api[i].methods & bit_of(methods[m]))
					continue;
				tu_response r = tu_request(server.port, methods[m], target,
				                           strcmp(methods[m], "GET") == 0 ||
				                           strcmp(methods[m], "HEAD") == 0 ? NULL : "");
				char allow[64] = "";
				ck_assert_msg(r.status == 405, "%s %s: %d", methods[m], target, r.status);
				ck_assert_msg(tu_header(&r, "Allow", allow, sizeof(allow)),
				              "%s %s: no Allow\n%s", methods[m], target, r.head);
				ck_assert_msg(strcmp(allow, api[i].allow) == 0, "%s %s: Allow '%s', wanted '%s'",
				              methods[m], target, allow, api[i].allow);
				tu_response_free(&r);
				checked++;
			}
			if (api[i].methods & SRV_M_HEAD) {
				tu_response r = tu_request(server.port, "HEAD", target, NULL);
				ck_assert_msg(r.status != 0 && r.status != 405, "HEAD %s: %d", target, r.status);
				ck_assert_uint_eq(r.body_len, 0);
				tu_response_free(&r);
			}
		}
	}
	ck_assert_int_gt(checked, 2 * (int)API_COUNT);
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}
END_TEST

Suite *
routes_suite(void)
{
	Suite *s = suite_create("routes");
	TCase *table = tcase_create("table");
	tcase_add_test(table, every_api_path_finds_its_route);
	tcase_add_test(table, find_reads_only_len_bytes);
	tcase_add_test(table, lab_table_is_the_documented_one);
	tcase_add_test(table, near_misses_are_static_files);
	tcase_add_test(table, allow_texts);
	suite_add_tcase(s, table);
	TCase *http = tcase_create("http");
	tcase_set_timeout(http, 30);
	tcase_add_test(http, wrong_methods_get_405_with_allow);
	suite_add_tcase(s, http);
	return s;
}
