/*
 * http.h - HTTP/1.1 requests in, responses out.  No sockets here: the parser
 * is fed bytes as they arrive and the writer fills buffers, so both can be
 * unit-tested and fuzzed without a network.
 *
 * The parser is incremental, strict and bounded:
 *   - feed it any number of bytes at a time (http_parser_feed); it copies
 *     what it needs into its own storage, so the caller's buffer is free
 *     again as soon as feed returns;
 *   - it answers "need more", "done" (a whole request, with its body) or
 *     "error" with the HTTP status to send (400, 413, 414, 431, 501, 505);
 *   - no input can make it read or write outside its buffers: the head is
 *     at most HTTP_HEAD_MAX bytes and the body at most the max_body given to
 *     http_parser_init, whatever the peer claims.
 * Pipelining: feed stops consuming at the end of a request and says how much
 * it used; the rest is the next request, fed after http_parser_reset().
 *
 * Thread-safety: a parser belongs to one connection thread.  The other
 * functions are pure and may be called from any thread.
 */
#ifndef PUSHQ_HTTP_H
#define PUSHQ_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Limits, each paired with the status that enforces it. */
#define HTTP_HEAD_MAX 16384    /* request line + headers, bytes  -> 431 */
#define HTTP_TARGET_MAX 8192   /* request target, bytes          -> 414 */
#define HTTP_HEADERS_MAX 64    /* header fields                  -> 431 */
#define HTTP_CHUNK_LINE_MAX 64 /* one chunk-size line            -> 400 */

typedef enum {
	HTTP_NEED_MORE, /* every byte used; feed more */
	HTTP_DONE,      /* a whole request is in p->req */
	HTTP_ERROR      /* malformed; p->error_status says how to answer */
} http_parse_result;

typedef enum {
	HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_OTHER /* any other valid token */
} http_method;

typedef struct {
	const char *name;  /* as sent; compare without case (http_header) */
	const char *value; /* leading and trailing blanks removed */
} http_header_field;

/*
 * One parsed request.  Every pointer points into the parser's storage and
 * stays valid until the next http_parser_reset() or http_parser_free().
 * Strings are NUL-terminated (the head cannot contain NUL: it is refused).
 */
typedef struct {
	http_method method;
	const char *method_name;  /* "GET", "PUT", ... */
	const char *target;       /* raw request target, "/get_msg?name=a" */
	const char *path;         /* target up to '?', not decoded */
	size_t path_len;
	const char *query;        /* after '?', or "" */
	int minor_version;        /* HTTP/1.x */
	http_header_field headers[HTTP_HEADERS_MAX];
	int header_count;

	const char *body;         /* decoded body (chunked framing removed) */
	size_t body_len;

	bool keep_alive;          /* the version's default, then Connection: */
	bool connection_upgrade;  /* Connection: has the token "upgrade" */
	bool upgrade_websocket;   /* Upgrade: has the token "websocket" */
} http_request;

typedef struct http_parser http_parser;

/*
 * A new parser whose bodies may be at most max_body bytes (else 413).
 * Returns NULL when out of memory.  Free with http_parser_free().
 */
http_parser *http_parser_new(size_t max_body);
void http_parser_free(http_parser *p);

/* Forget the last request; start on a new one. */
void http_parser_reset(http_parser *p);

/*
 * Feeds `len` bytes.  *used is set to how many were consumed: all of them
 * for HTTP_NEED_MORE, up to the end of the request for HTTP_DONE (the rest
 * belongs to the next request).  After HTTP_DONE or HTTP_ERROR, feeding
 * again without a reset gives the same result and uses nothing.
 */
http_parse_result http_parser_feed(http_parser *p, const char *data,
                                   size_t len, size_t *used);

/* The request, valid once feed returned HTTP_DONE. */
const http_request *http_parser_request(const http_parser *p);

/* After HTTP_ERROR: the status to answer with (400, 413, 414, 431, ...). */
int http_parser_error_status(const http_parser *p);

/*
 * True (once per request) when the head asked "Expect: 100-continue" and the
 * body has not started: the caller sends "HTTP/1.1 100 Continue" so that the
 * client sends its body without waiting.  The head's fields can be read then
 * through http_parser_request(), though the request is not yet done.
 */
bool http_parser_take_continue(http_parser *p);

/* True once some bytes of a request have arrived (for 408 decisions). */
bool http_parser_started(const http_parser *p);

/* The value of the first header called `name` (any case), or NULL. */
const char *http_header(const http_request *req, const char *name);

/* True when the comma-separated header value holds `token` (any case). */
bool http_has_token(const char *value, const char *token);

/*
 * Decodes application/x-www-form-urlencoded text (also used for query
 * strings): finds the first field called `key` in `form` (len bytes) and
 * writes its value, '+' and %XX decoded, NUL-terminated, into out[cap].
 * Returns the decoded length; -1 if the key is absent; -2 if the value has a
 * bad %-escape or does not fit in cap - 1 bytes.
 */
long http_form_value(const char *form, size_t len, const char *key,
                     char *out, size_t cap);

/*
 * Percent-decodes a request path into out[cap], NUL-terminated; '+' stays
 * '+'.  Returns the length, or -1 for a bad escape, a NUL (encoded or
 * not: found by fuzzing), or no room.
 */
long http_path_decode(const char *path, size_t len, char *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

/* A growable byte buffer.  Start with {0}; http_buf_free() when done. */
typedef struct {
	char *data;
	size_t len, cap;
	bool failed;     /* an allocation failed; the contents are incomplete */
} http_buf;

void http_buf_free(http_buf *b);

/* Makes room for `more` bytes plus a NUL after b->len (capacity doubles).
 * False, with b->failed set, when memory runs out. */
bool http_buf_reserve(http_buf *b, size_t more);
void http_buf_append(http_buf *b, const void *data, size_t len);
void http_buf_puts(http_buf *b, const char *s);
void http_buf_printf(http_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Appends `len` bytes of text as a JSON string, quotes included.  Quotes,
 * backslashes and control characters are escaped; bytes that are not valid
 * UTF-8 become U+FFFD, so the output is valid JSON for any input.
 */
void http_buf_json_string(http_buf *b, const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

/*
 * An incremental UTF-8 validator: feed bytes one at a time, in as many
 * pieces as they arrive (a WebSocket text message may be split anywhere).
 * It accepts exactly well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF.
 */
typedef struct {
	uint8_t need;     /* continuation bytes still expected */
	uint8_t lo, hi;   /* the range the next continuation byte must be in */
} http_utf8_state;

/* A state at the start of text. */
void http_utf8_init(http_utf8_state *s);

/* False at the first byte that cannot belong (the state is then spent).
 * The text so far is whole when it returned true and s->need == 0. */
bool http_utf8_step(http_utf8_state *s, uint8_t b);

/* True when all len bytes are well-formed UTF-8 (and no sequence is cut). */
bool http_utf8_valid(const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* Server-Sent Events (WHATWG HTML, "Server-sent events")              */
/* ------------------------------------------------------------------ */

/*
 * Appends one event: "id: ID" (when id is not NULL), then one "data: "
 * line per line of `data` (split at CRLF, CR or LF, as the browser joins
 * them back with LF), then the blank line that dispatches it.  An id must
 * hold no CR, LF or NUL (the browser would cut or ignore it): the caller
 * gives digits.
 */
void http_sse_event_append(http_buf *b, const char *id, const char *data, size_t len);

/* Appends a comment line (": text"), which the browser ignores: it keeps
 * proxies from closing a quiet stream. */
void http_sse_comment_append(http_buf *b, const char *text);

/* Parses a Last-Event-ID or ?since= value: decimal digits only, no sign,
 * fits in 64 bits.  False otherwise. */
bool http_parse_event_id(const char *text, uint64_t *out);

/* The reason phrase of a status code ("Not Found"), or "Unknown". */
const char *http_reason(int status);

/* The IMF-fixdate of t, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (29 chars). */
void http_date(time_t t, char out[32]);

/*
 * Appends a response head: status line, Date, Content-Type (if not NULL),
 * Content-Length, Connection (keep-alive or close), then `extra` (zero or
 * more complete "Name: value\r\n" lines, or NULL) and the blank line.
 * `date` is from http_date (callers cache it per second).
 */
void http_response_head(http_buf *b, int status, const char *date,
                        const char *content_type, size_t content_length,
                        bool keep_alive, const char *extra);

#endif
