/*
 * http.c - header look-ups, form and path decoding, and the response writer
 * (see http.h).  Everything here is a pure function of its arguments.
 */
#include "http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Headers                                                             */
/* ------------------------------------------------------------------ */

const char *
http_header(const http_request *req, const char *name)
{
	for (int i = 0; i < req->header_count; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

bool
http_has_token(const char *value, const char *token)
{
	size_t token_len = strlen(token);
	const char *s = value;
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		const char *start = s;
		while (*s && *s != ',')
			s++;
		const char *end = s;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - start) == token_len && strncasecmp(start, token, token_len) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Percent-decodes s[0..len) into out[cap]; '+' becomes a space when
 * plus_is_space.  Returns the length, or -1 for a bad escape, an encoded NUL
 * (only refused when !plus_is_space: paths) or no room.
 */
static long
percent_decode(const char *s, size_t len, bool plus_is_space, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			bool complete = i + 2 < len;   /* both hex digits are there */
			int hi = complete ? hex_value(s[i + 1]) : -1;
			int lo = complete ? hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0' && !plus_is_space)
			return -1;               /* a path never holds a NUL, sent or encoded */
		if (n + 1 >= cap)
			return -1;
		out[n++] = c;
	}
	if (cap == 0)
		return -1;
	out[n] = '\0';
	return (long)n;
}

long
http_path_decode(const char *path, size_t len, char *out, size_t cap)
{
	return percent_decode(path, len, false, out, cap);
}

long
http_form_value(const char *form, size_t len, const char *key, char *out, size_t cap)
{
	size_t key_len = strlen(key);
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && form[end] != '&')
			end++;
		const char *eq = memchr(form + i, '=', end - i);
		size_t name_end = eq ? (size_t)(eq - form) : end;
		/* Keys are compared as sent: ours never need decoding. */
		if (name_end - i == key_len && memcmp(form + i, key, key_len) == 0) {
			size_t value_start = eq ? name_end + 1 : end;
			long n = percent_decode(form + value_start, end - value_start, true, out, cap);
			return n < 0 ? -2 : n;
		}
		i = end + 1;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Output buffer                                                       */
/* ------------------------------------------------------------------ */

void
http_buf_free(http_buf *b)
{
	free(b->data);
	*b = (http_buf){ 0 };
}

bool
http_buf_reserve(http_buf *b, size_t more)
{
	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *bigger = realloc(b->data, cap);
	if (bigger == NULL) {
		b->failed = true;
		return false;
	}
	b->data = bigger;
	b->cap = cap;
	return true;
}

void
http_buf_append(http_buf *b, const void *data, size_t len)
{
	if (!http_buf_reserve(b, len))
		return;
	if (len > 0)            /* data may be NULL when there is nothing */
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
http_buf_puts(http_buf *b, const char *s)
{
	http_buf_append(b, s, strlen(s));
}

void
http_buf_printf(http_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !http_buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ------------------------------------------------------------------ */
/* UTF-8, checked a byte at a time (text may be split anywhere)        */
/* ------------------------------------------------------------------ */

void
http_utf8_init(http_utf8_state *s)
{
	*s = (http_utf8_state){ .need = 0, .lo = 0x80, .hi = 0xbf };
}

bool
http_utf8_step(http_utf8_state *s, uint8_t b)
{
	if (s->need > 0) {
		if (b < s->lo || b > s->hi)
			return false;
		s->need--;
		s->lo = 0x80;
		s->hi = 0xbf;
		return true;
	}
	if (b < 0x80)
		return true;
	if (b >= 0xc2 && b <= 0xdf) {
		s->need = 1;
	} else if (b >= 0xe0 && b <= 0xef) {
		s->need = 2;
		if (b == 0xe0) s->lo = 0xa0;   /* overlong */
		if (b == 0xed) s->hi = 0x9f;   /* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		s->need = 3;
		if (b == 0xf0) s->lo = 0x90;   /* overlong */
		if (b == 0xf4) s->hi = 0x8f;   /* above U+10FFFF */
	} else {
		return false;                  /* C0, C1, F5-FF, or a stray continuation */
	}
	return true;
}

bool
http_utf8_valid(const void *data, size_t len)
{
	const uint8_t *p = data;
	http_utf8_state s;
	http_utf8_init(&s);
	for (size_t i = 0; i < len; i++)
		if (!http_utf8_step(&s, p[i]))
			return false;
	return s.need == 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there
 * are not one. */
static size_t
utf8_sequence_length(const unsigned char *s, size_t len)
{
	http_utf8_state st;
	http_utf8_init(&st);
	size_t i = 0;
	do {
		if (i == len || !http_utf8_step(&st, s[i]))
			return 0;
		i++;
	} while (st.need > 0);
	return i;
}

/* ------------------------------------------------------------------ */
/* JSON strings                                                        */
/* ------------------------------------------------------------------ */

void
http_buf_json_string(http_buf *b, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	http_buf_append(b, "\"", 1);
	size_t run = 0;   /* bytes copied as they are, flushed in one append */
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = utf8_sequence_length(s + i, len - i);
		if (n > 0 && c >= 0x20 && c != '"' && c != '\\') {
			run += n;
			i += n;
			continue;
		}
		http_buf_append(b, s + i - run, run);
		run = 0;
		char esc[8];
		if (n == 0)
			http_buf_puts(b, "\\ufffd");
		else if (c == '"')
			http_buf_puts(b, "\\\"");
		else if (c == '\\')
			http_buf_puts(b, "\\\\");
		else if (c == '\n')
			http_buf_puts(b, "\\n");
		else if (c == '\r')
			http_buf_puts(b, "\\r");
		else if (c == '\t')
			http_buf_puts(b, "\\t");
		else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			http_buf_puts(b, esc);
		}
		i += 1;
	}
	http_buf_append(b, s + len - run, run);
	http_buf_append(b, "\"", 1);
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

void
http_date(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void
http_response_head(http_buf *b, int status, const char *date,
                   const char *content_type, size_t content_length,
                   bool keep_alive, const char *extra)
{
	http_buf_printf(b, "HTTP/1.1 %d %s\r\nServer: pushq\r\nDate: %s\r\n",
	                status, http_reason(status), date);
	if (content_type != NULL)
		http_buf_printf(b, "Content-Type: %s\r\n", content_type);
	http_buf_printf(b, "Content-Length: %zu\r\nConnection: %s\r\n%s\r\n",
	                content_length, keep_alive ? "keep-alive" : "close",
	                extra ? extra : "");
}

/* ------------------------------------------------------------------ */
/* Server-Sent Events                                                  */
/* ------------------------------------------------------------------ */

void
http_sse_event_append(http_buf *b, const char *id, const char *data, size_t len)
{
	if (id != NULL)
		http_buf_printf(b, "id: %s\n", id);
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && data[i] != '\r' && data[i] != '\n')
			continue;
		http_buf_puts(b, "data: ");
		http_buf_append(b, data + start, i - start);
		http_buf_puts(b, "\n");
		if (i + 1 < len && data[i] == '\r' && data[i + 1] == '\n')
			i++;                          /* CRLF is one line end */
		start = i + 1;
	}
	http_buf_puts(b, "\n");
}

void
http_sse_comment_append(http_buf *b, const char *text)
{
	http_buf_printf(b, ": %s\n\n", text);
}

bool
http_parse_event_id(const char *text, uint64_t *out)
{
	uint64_t v = 0;
	if (*text == '\0')
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}
