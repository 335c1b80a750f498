/*
 * check_bridge_url.c - srv_bridge_parse_url (server/room/bridge.h), the
 * parser of --redis redis://HOST:PORT[/DB]: what it takes, exactly what it
 * gives back, and each refusal with its exact reason.
 */
#include "suites.h"

#include "server/room/bridge.h"

#include <stdio.h>
#include <string.h>

#define WANTS "--redis wants redis://HOST:PORT[/DB], not '%s'"
#define BAD_PORT "--redis: bad port in '%s'"
#define BAD_DB "--redis: bad database number in '%s'"
#define BAD_HOST "--redis: bad host in '%s'"
#define NO_USER "--redis: no user or password in the URL (not supported), not '%s'"

static void
expect_ok(const char *url, const char *host, int port, int db)
{
	char got_host[256], err[512] = "";
	int got_port = -7, got_db = -7;
	ck_assert_msg(srv_bridge_parse_url(url, got_host, sizeof(got_host), &got_port, &got_db,
	                                   err, sizeof(err)), "%s refused: %s", url, err);
	ck_assert_str_eq(got_host, host);
	ck_assert_int_eq(got_port, port);
	ck_assert_int_eq(got_db, db);
}

/* Refused with the reason `format` (one %s: the url); port and db are left
 * as they were. */
static void
expect_refused_in(const char *url, size_t host_len, const char *format)
{
	char host[512], err[512] = "", want[512];
	int port = -7, db = -7;
	ck_assert_uint_le(host_len, sizeof(host));
	ck_assert_msg(!srv_bridge_parse_url(url, host, host_len, &port, &db, err, sizeof(err)),
	              "%s was taken", url);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(want, sizeof(want), format, url);
#pragma GCC diagnostic pop
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(port, -7);
	ck_assert_int_eq(db, -7);
}

static void
expect_refused(const char *url, const char *format)
{
	expect_refused_in(url, 256, format);
}

START_TEST(good_urls)
{
	expect_ok("redis://127.0.0.1:6379", "127.0.0.1", 6379, 0);
	expect_ok("redis://localhost:1/0", "localhost", 1, 0);
	expect_ok("redis://h:65535/15", "h", 65535, 15);
	expect_ok("redis://redis.example.org:6380/1000000", "redis.example.org", 6380, 1000000);
	expect_ok("redis://h:06379/007", "h", 6379, 7);     /* decimal, leading zeros */
}
END_TEST

/* IPv6 without brackets: the port is after the last colon. */
START_TEST(ipv6_without_brackets)
{
	expect_ok("redis://::1:6379", "::1", 6379, 0);
	expect_ok("redis://fe80::1:6380/2", "fe80::1", 6380, 2);
	expect_ok("redis://2001:db8::42:1", "2001:db8::42", 1, 0);
}
END_TEST

/* A host of host_len - 1 bytes fits; one more is refused, not cut. */
START_TEST(host_bounded_by_its_buffer)
{
	char host[8], err[256];
	int port = 0, db = 0;
	ck_assert(srv_bridge_parse_url("redis://abcdefg:1/3", host, sizeof(host), &port, &db,
	                               err, sizeof(err)));
	ck_assert_str_eq(host, "abcdefg");
	ck_assert_int_eq(port, 1);
	ck_assert_int_eq(db, 3);
	expect_refused_in("redis://abcdefgh:1", 8, BAD_HOST);
	char url[400];
	int n = snprintf(url, sizeof(url), "redis://");
	memset(url + n, 'a', 300);
	strcpy(url + n + 300, ":6379");
	expect_refused_in(url, 256, BAD_HOST);
	url[n + 255] = '\0';                     /* 255 bytes: fits 256 */
	strcat(url, ":6379");
	char big[256];
	ck_assert(srv_bridge_parse_url(url, big, sizeof(big), &port, &db, err, sizeof(err)));
	ck_assert_uint_eq(strlen(big), 255);
}
END_TEST

START_TEST(wrong_scheme)
{
	expect_refused("http://127.0.0.1:6379", WANTS);
	expect_refused("rediss://127.0.0.1:6379", WANTS);
	expect_refused("REDIS://127.0.0.1:6379", WANTS);
	expect_refused("redis:/127.0.0.1:6379", WANTS);
	expect_refused("127.0.0.1:6379", WANTS);
	expect_refused("", WANTS);
}
END_TEST

START_TEST(no_port_or_no_host)
{
	expect_refused("redis://localhost", WANTS);
	expect_refused("redis://localhost/0", WANTS);
	expect_refused("redis://", WANTS);
	expect_refused("redis://:6379", WANTS);       /* empty host */
	expect_refused("redis://:6379/0", WANTS);
	expect_refused("redis://h/x:6379", WANTS);    /* the slash before the colon */
	expect_refused("redis://localhost:", BAD_PORT);
	expect_refused("redis://localhost:/0", BAD_PORT);
}
END_TEST

START_TEST(bad_ports)
{
	expect_refused("redis://h:0", BAD_PORT);
	expect_refused("redis://h:0/1", BAD_PORT);
	expect_refused("redis://h:65536", BAD_PORT);
	expect_refused("redis://h:99999999999999999999999", BAD_PORT);
	expect_refused("redis://h:-1", BAD_PORT);
	expect_refused("redis://h:abc", BAD_PORT);
	expect_refused("redis://h:63a9", BAD_PORT);
	expect_refused("redis://h:6379x", BAD_PORT);
	expect_refused("redis://h:0x10", BAD_PORT);
	expect_refused("redis://h:6379 ", BAD_PORT);
	expect_refused("redis://h:6379?db=1", BAD_PORT);
}
END_TEST

START_TEST(bad_databases)
{
	expect_refused("redis://h:6379/", BAD_DB);
	expect_refused("redis://h:6379/-1", BAD_DB);
	expect_refused("redis://h:6379/abc", BAD_DB);
	expect_refused("redis://h:6379/1000001", BAD_DB);
	expect_refused("redis://h:6379/99999999999999999999999", BAD_DB);
}
END_TEST

START_TEST(trailing_garbage)
{
	expect_refused("redis://h:6379/0x", BAD_DB);
	expect_refused("redis://h:6379/0/", BAD_DB);
	expect_refused("redis://h:6379/0/1", BAD_DB);
	expect_refused("redis://h:6379/1 ", BAD_DB);
	expect_refused("redis://h:6379/1:2", WANTS);  /* the last colon is past the slash */
}
END_TEST

/* [IPv6]:port, as URLs write it: the host comes without its brackets. */
START_TEST(ipv6_in_brackets)
{
	expect_ok("redis://[::1]:6379", "::1", 6379, 0);
	expect_ok("redis://[fe80::1]:6380/2", "fe80::1", 6380, 2);
	expect_refused("redis://[::1]", WANTS);
	expect_refused("redis://[::1:6379", WANTS);
	expect_refused("redis://[]:6379", WANTS);
}
END_TEST

/* Only digits are numbers; only host characters are a host; no password. */
START_TEST(strict_fields)
{
	expect_refused("redis://h:+80", BAD_PORT);
	expect_refused("redis://h: 80", BAD_PORT);
	expect_refused("redis://h:6379/ 5", BAD_DB);
	expect_refused("redis://h:6379/+5", BAD_DB);
	expect_refused("redis://h:6379/-0", BAD_DB);
	expect_refused("redis://a b:6379", BAD_HOST);
	expect_refused("redis://h%41:6379", BAD_HOST);
	expect_refused("redis://:pw@h:6379", NO_USER);
	expect_refused("redis://user:pw@h:6379/0", NO_USER);
	/* A refused URL leaves the host buffer as it was. */
	char host[64] = "untouched", err[256];
	int port = 0, db = 0;
	ck_assert(!srv_bridge_parse_url("redis://goodhost:0", host, sizeof(host), &port, &db,
	                                err, sizeof(err)));
	ck_assert_str_eq(host, "untouched");
}
END_TEST

/* The reason is cut to errlen, and stays a string. */
START_TEST(reason_is_bounded)
{
	char host[64], err[12];
	int port = 0, db = 0;
	memset(err, 'x', sizeof(err));
	ck_assert(!srv_bridge_parse_url("http://x", host, sizeof(host), &port, &db, err, sizeof(err)));
	ck_assert_str_eq(err, "--redis wan");
}
END_TEST

Suite *
bridge_url_suite(void)
{
	Suite *s = suite_create("bridge_url");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, good_urls);
	tcase_add_test(tc, ipv6_without_brackets);
	tcase_add_test(tc, host_bounded_by_its_buffer);
	tcase_add_test(tc, wrong_scheme);
	tcase_add_test(tc, no_port_or_no_host);
	tcase_add_test(tc, bad_ports);
	tcase_add_test(tc, bad_databases);
	tcase_add_test(tc, trailing_garbage);
	tcase_add_test(tc, reason_is_bounded);
	tcase_add_test(tc, ipv6_in_brackets);
	tcase_add_test(tc, strict_fields);
	suite_add_tcase(s, tc);
	return s;
}
