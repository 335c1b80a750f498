/*
 * parser.c - the incremental HTTP/1.1 request parser (see http.h).
 *
 * DESIGN
 * A request goes through these states:
 *
 *   HEAD ──(blank line)──> parse the head at once ──> DONE (no body)
 *                                                 ├─> BODY     (Content-Length)
 *                                                 └─> CHUNK_SIZE (chunked)
 *   CHUNK_SIZE ──> CHUNK_DATA ──> CHUNK_CRLF ──> CHUNK_SIZE ... size 0 ──> TRAILER ──> DONE
 *
 * The head is copied into p->head until its blank line ("\r\n\r\n") arrives;
 * only then is it parsed, in one pass, with every rule of RFC 9112 that
 * keeps a server safe: CRLF line ends, token method and header names, no
 * control bytes, no obsolete line folding, one clear message framing.  Body
 * bytes are copied into p->body, whose size never exceeds max_body.  A byte
 * is only ever written to p->head below HTTP_HEAD_MAX or to p->body below
 * its capacity, so no input can overrun either.
 */
#include "http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
	ST_HEAD, ST_BODY, ST_CHUNK_SIZE, ST_CHUNK_DATA, ST_CHUNK_CRLF,
	ST_TRAILER, ST_DONE, ST_ERROR
} parser_state;

struct http_parser {
	parser_state state;
	int error_status;
	size_t max_body;

	char *head;                    /* HTTP_HEAD_MAX + 1 bytes: +1 for a NUL */
	size_t head_len;

	http_buf body;                 /* grows up to max_body (+1 for NUL) */
	size_t body_expected;          /* Content-Length */

	char line[HTTP_CHUNK_LINE_MAX]; /* chunk-size line being collected */
	size_t line_len;
	size_t chunk_left;              /* bytes of the current chunk to come */
	size_t trailer_len;             /* trailer bytes seen, bounded */
	bool trailer_line_empty;
	bool continue_given;            /* http_parser_take_continue said yes */

	http_request req;
};

/* ------------------------------------------------------------------ */
/* Character classes (RFC 9110 section 5.6.2)                          */
/* ------------------------------------------------------------------ */

static bool
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Field values: visible ASCII, space, tab, and obs-text (bytes >= 0x80). */
static bool
is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

http_parser *
http_parser_new(size_t max_body)
{
	http_parser *p = calloc(1, sizeof(*p));
	/* Not calloc: untouched pages of an idle connection's head buffer
	 * then cost no memory (a waiting long poll uses one page of it). */
	char *head = malloc(HTTP_HEAD_MAX + 1);
	if (p == NULL || head == NULL) {
		free(p);
		free(head);
		return NULL;
	}
	p->head = head;
	p->max_body = max_body;
	http_parser_reset(p);
	return p;
}

void
http_parser_free(http_parser *p)
{
	if (p == NULL)
		return;
	free(p->head);
	http_buf_free(&p->body);
	free(p);
}

void
http_parser_reset(http_parser *p)
{
	p->state = ST_HEAD;
	p->error_status = 0;
	p->head_len = 0;
	p->body.len = 0;
	p->body.failed = false;
	p->body_expected = 0;
	p->line_len = 0;
	p->chunk_left = 0;
	p->trailer_len = 0;
	p->trailer_line_empty = true;
	p->continue_given = false;
	memset(&p->req, 0, sizeof(p->req));
}

const http_request *
http_parser_request(const http_parser *p)
{
	return &p->req;
}

int
http_parser_error_status(const http_parser *p)
{
	return p->error_status;
}

bool
http_parser_take_continue(http_parser *p)
{
	bool waiting_for_body = (p->state == ST_BODY || p->state == ST_CHUNK_SIZE) &&
	                        p->body.len == 0 && p->line_len == 0;
	if (!waiting_for_body || p->continue_given)
		return false;
	const char *expect = http_header(&p->req, "Expect");
	p->continue_given = expect != NULL && strcasecmp(expect, "100-continue") == 0;
	return p->continue_given;
}

bool
http_parser_started(const http_parser *p)
{
	return p->state != ST_HEAD || p->head_len > 0;
}

static http_parse_result
fail(http_parser *p, int status)
{
	p->state = ST_ERROR;
	p->error_status = status;
	return HTTP_ERROR;
}

/* ------------------------------------------------------------------ */
/* The head, parsed in one pass once complete                          */
/* ------------------------------------------------------------------ */

/*
 * Cuts the next CRLF-terminated line off *cursor: returns it NUL-terminated
 * and moves *cursor past it.  A bare CR or LF inside makes it NULL.
 */
static char *
next_line(char **cursor)
{
	char *line = *cursor;
	char *crlf = strstr(line, "\r\n");
	if (crlf == NULL)
		return NULL;
	*crlf = '\0';
	if (strpbrk(line, "\r\n") != NULL)
		return NULL;
	*cursor = crlf + 2;
	return line;
}

static http_method
method_of(const char *name)
{
	if (strcmp(name, "GET") == 0)
		return HTTP_GET;
	if (strcmp(name, "HEAD") == 0)
		return HTTP_HEAD;
	if (strcmp(name, "POST") == 0)
		return HTTP_POST;
	return HTTP_OTHER;
}

/* "GET /path?query HTTP/1.1": returns 0 or the status to fail with. */
static int
parse_request_line(http_request *req, char *line)
{
	char *sp1 = strchr(line, ' ');
	if (sp1 == NULL || sp1 == line)
		return 400;
	*sp1 = '\0';
	for (char *c = line; *c; c++)
		if (!is_tchar((unsigned char)*c))
			return 400;
	req->method_name = line;
	req->method = method_of(line);

	char *target = sp1 + 1;
	char *sp2 = strchr(target, ' ');
	if (sp2 == NULL || sp2 == target)
		return 400;
	*sp2 = '\0';
	if ((size_t)(sp2 - target) > HTTP_TARGET_MAX)
		return 414;
	for (char *c = target; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return 400;
	if (target[0] != '/')
		return 400;       /* only origin-form ("/path?query") is served */
	req->target = target;

	const char *version = sp2 + 1;
	if (strncmp(version, "HTTP/", 5) != 0 || !isdigit((unsigned char)version[5]) ||
	    version[6] != '.' || !isdigit((unsigned char)version[7]) || version[8] != '\0')
		return 400;
	if (version[5] != '1')
		return 505;
	req->minor_version = version[7] - '0';
	return 0;
}

/* Removes leading and trailing spaces and tabs, in place. */
static char *
trim_blanks(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* "Name: value": returns 0 or the status to fail with. */
static int
parse_header_line(http_request *req, char *line)
{
	if (line[0] == ' ' || line[0] == '\t')
		return 400;                 /* obsolete line folding */
	char *colon = strchr(line, ':');
	if (colon == NULL || colon == line)
		return 400;
	*colon = '\0';
	for (char *c = line; *c; c++)
		if (!is_tchar((unsigned char)*c))
			return 400;         /* includes a space before the colon */
	for (char *c = colon + 1; *c; c++)
		if (!is_field_char((unsigned char)*c))
			return 400;
	if (req->header_count == HTTP_HEADERS_MAX)
		return 431;
	req->headers[req->header_count++] =
		(http_header_field){ line, trim_blanks(colon + 1) };
	return 0;
}

/* Content-Length: 1*DIGIT.  Returns 0, 400 (not a number) or 413 (a
 * number past 18 digits: larger than any body we accept, and we stop
 * before it could overflow). */
static int
parse_content_length(const char *s, size_t *out)
{
	size_t n = 0, digits = 0;
	for (; *s; s++, digits++) {
		if (!isdigit((unsigned char)*s))
			return 400;
		if (digits == 18)
			return 413;
		n = n * 10 + (size_t)(*s - '0');
	}
	*out = n;
	return digits > 0 ? 0 : 400;
}

/*
 * Decides how the body is framed (RFC 9112 section 6.3) and the connection
 * options.  Returns 0 or the status to fail with.
 */
static int
read_framing(http_parser *p)
{
	http_request *req = &p->req;
	const char *length = NULL, *coding = NULL;
	int hosts = 0;
	for (int i = 0; i < req->header_count; i++) {
		const http_header_field *h = &req->headers[i];
		if (strcasecmp(h->name, "Content-Length") == 0) {
			if (length != NULL && strcmp(length, h->value) != 0)
				return 400;     /* two different lengths */
			length = h->value;
		} else if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
			if (coding != NULL)
				return 501;     /* stacked codings: only chunked is known */
			coding = h->value;
		} else if (strcasecmp(h->name, "Host") == 0) {
			hosts++;
		}
	}
	if (req->minor_version >= 1 && hosts != 1)
		return 400;                 /* HTTP/1.1 needs exactly one Host */
	if (length != NULL && coding != NULL)
		return 400;                 /* ambiguous: smuggling territory */

	const char *conn = http_header(req, "Connection");
	req->keep_alive = req->minor_version >= 1
		? !(conn && http_has_token(conn, "close"))
		: (conn && http_has_token(conn, "keep-alive"));
	req->connection_upgrade = conn && http_has_token(conn, "upgrade");
	const char *upgrade = http_header(req, "Upgrade");
	req->upgrade_websocket = upgrade && http_has_token(upgrade, "websocket");

	if (coding != NULL) {
		if (req->minor_version == 0)
			return 400;         /* HTTP/1.0 has no chunked coding */
		if (strcasecmp(coding, "chunked") != 0)
			return 501;
		p->state = ST_CHUNK_SIZE;
		return 0;
	}
	if (length != NULL) {
		int status = parse_content_length(length, &p->body_expected);
		if (status != 0)
			return status;
		if (p->body_expected > p->max_body)
			return 413;
		p->state = p->body_expected > 0 ? ST_BODY : ST_DONE;
		return 0;
	}
	p->state = ST_DONE;
	return 0;
}

static void
split_target(http_request *req)
{
	const char *q = strchr(req->target, '?');
	req->path = req->target;
	req->path_len = q ? (size_t)(q - req->target) : strlen(req->target);
	req->query = q ? q + 1 : "";
}

/* p->head holds a complete head ending in "\r\n\r\n".  Returns 0 or a status. */
static int
parse_head(http_parser *p)
{
	if (memchr(p->head, '\0', p->head_len) != NULL)
		return 400;
	p->head[p->head_len] = '\0';
	char *cursor = p->head;
	char *line = next_line(&cursor);
	if (line == NULL)
		return 400;
	int status = parse_request_line(&p->req, line);
	if (status != 0)
		return status;
	while ((line = next_line(&cursor)) != NULL && line[0] != '\0') {
		status = parse_header_line(&p->req, line);
		if (status != 0)
			return status;
	}
	if (line == NULL)
		return 400;                 /* a bare CR or LF somewhere */
	split_target(&p->req);
	return read_framing(p);
}

/* Collects head bytes until the blank line; parses the head then. */
static http_parse_result
feed_head(http_parser *p, const char *data, size_t len, size_t *used)
{
	size_t i = 0;
	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (p->head_len == 0 && i < len && (data[i] == '\r' || data[i] == '\n'))
		i++;
	size_t room = HTTP_HEAD_MAX - p->head_len;
	size_t take = len - i < room ? len - i : room;
	size_t old_len = p->head_len;
	memcpy(p->head + p->head_len, data + i, take);
	p->head_len += take;

	size_t from = old_len >= 3 ? old_len - 3 : 0;
	p->head[p->head_len] = '\0';
	char *end = NULL;
	for (size_t k = from; k + 4 <= p->head_len; k++) {
		if (memcmp(p->head + k, "\r\n\r\n", 4) == 0) {
			end = p->head + k + 4;
			break;
		}
	}
	if (end == NULL) {
		*used = i + take;
		if (p->head_len < HTTP_HEAD_MAX)
			return HTTP_NEED_MORE;
		/* Full and no end: a line that long is a huge target, else headers. */
		return fail(p, memchr(p->head, '\n', p->head_len) ? 431 : 414);
	}
	size_t head_end = (size_t)(end - p->head);
	*used = i + (head_end - old_len);
	p->head_len = head_end;
	int status = parse_head(p);
	return status != 0 ? fail(p, status) : HTTP_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* The body                                                            */
/* ------------------------------------------------------------------ */

/* Appends n body bytes (room was reserved with http_buf_reserve). */
static void
body_append(http_parser *p, const char *data, size_t n)
{
	memcpy(p->body.data + p->body.len, data, n);
	p->body.len += n;
}

/* Content-Length bodies. */
static http_parse_result
feed_body(http_parser *p, const char *data, size_t len, size_t *used)
{
	size_t want = p->body_expected - p->body.len;
	size_t take = len < want ? len : want;
	if (!http_buf_reserve(&p->body, take))
		return fail(p, 500);
	body_append(p, data, take);
	*used = take;
	if (p->body.len == p->body_expected)
		p->state = ST_DONE;
	return HTTP_NEED_MORE;
}

/* "1a3;ext=1" -> 0x1a3.  Returns 0 or the status to fail with. */
static int
parse_chunk_size(http_parser *p)
{
	size_t size = 0, digits = 0;
	const char *c = p->line;
	for (; isxdigit((unsigned char)*c); c++, digits++) {
		if (digits == 15)
			return 413;     /* more than 2^60: no body is that large */
		size = size * 16 + (size_t)(isdigit((unsigned char)*c)
		                            ? *c - '0' : (tolower((unsigned char)*c) - 'a' + 10));
	}
	while (*c == ' ' || *c == '\t')
		c++;
	if (digits == 0 || (*c != '\0' && *c != ';'))
		return 400;
	if (size > p->max_body - p->body.len)
		return 413;
	p->chunk_left = size;
	p->state = size > 0 ? ST_CHUNK_DATA : ST_TRAILER;
	return 0;
}

/* One byte of a CRLF-terminated line into p->line.  Returns 0, 1 when the
 * line is complete (NUL-terminated, CRLF removed), or a status. */
static int
collect_line_byte(http_parser *p, char c)
{
	if (c == '\n') {
		if (p->line_len == 0 || p->line[p->line_len - 1] != '\r')
			return 400;         /* bare LF */
		p->line[p->line_len - 1] = '\0';
		p->line_len = 0;
		return 1;
	}
	if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
		return 400;                 /* bare CR */
	if (c == '\0' || p->line_len + 1 >= HTTP_CHUNK_LINE_MAX)
		return 400;
	p->line[p->line_len++] = c;
	return 0;
}

/* Trailer fields are read and thrown away, within the head's limit. */
static int
trailer_byte(http_parser *p, char c)
{
	if (++p->trailer_len > HTTP_HEAD_MAX)
		return 431;
	if (c == '\n') {
		if (p->line_len != 1)       /* line_len here: 1 after a CR */
			return 400;
		p->line_len = 0;
		if (p->trailer_line_empty)
			p->state = ST_DONE;
		p->trailer_line_empty = true;
		return 0;
	}
	if (p->line_len == 1 || (c != '\r' && !is_field_char((unsigned char)c)))
		return 400;
	if (c == '\r')
		p->line_len = 1;
	else
		p->trailer_line_empty = false;
	return 0;
}

static http_parse_result
feed_chunked(http_parser *p, const char *data, size_t len, size_t *used)
{
	size_t i = 0;
	while (i < len && p->state != ST_DONE) {
		int status = 0;
		switch (p->state) {
		case ST_CHUNK_SIZE:
			status = collect_line_byte(p, data[i++]);
			if (status == 1)
				status = parse_chunk_size(p);
			break;
		case ST_CHUNK_DATA: {
			size_t take = len - i < p->chunk_left ? len - i : p->chunk_left;
			if (!http_buf_reserve(&p->body, take))
				return fail(p, 500);
			body_append(p, data + i, take);
			i += take;
			p->chunk_left -= take;
			if (p->chunk_left == 0)
				p->state = ST_CHUNK_CRLF;
			break;
		}
		case ST_CHUNK_CRLF:
			status = collect_line_byte(p, data[i++]);
			if (status == 1)
				status = p->line[0] == '\0' ? 0 : 400;
			if (status == 0 && p->line_len == 0)
				p->state = ST_CHUNK_SIZE;
			break;
		default: /* ST_TRAILER */
			status = trailer_byte(p, data[i++]);
			break;
		}
		if (status > 1)
			return fail(p, status);
	}
	*used = i;
	return HTTP_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* The entry point                                                     */
/* ------------------------------------------------------------------ */

/* Makes the finished request's body visible (NUL-terminated, never NULL). */
static http_parse_result
finish(http_parser *p)
{
	if (p->body.len == 0) {
		p->req.body = "";     /* most requests: nothing to allocate */
		p->req.body_len = 0;
		return HTTP_DONE;
	}
	p->body.data[p->body.len] = '\0';   /* http_buf_reserve kept room */
	p->req.body = p->body.data;
	p->req.body_len = p->body.len;
	return HTTP_DONE;
}

http_parse_result
http_parser_feed(http_parser *p, const char *data, size_t len, size_t *used)
{
	size_t total = 0;
	for (;;) {
		size_t step = 0;
		http_parse_result r;
		switch (p->state) {
		case ST_DONE:
			*used = total;
			return p->req.body == NULL ? finish(p) : HTTP_DONE;
		case ST_ERROR:
			*used = total;
			return HTTP_ERROR;
		case ST_HEAD:
			r = feed_head(p, data + total, len - total, &step);
			break;
		case ST_BODY:
			r = feed_body(p, data + total, len - total, &step);
			break;
		default:
			r = feed_chunked(p, data + total, len - total, &step);
			break;
		}
		total += step;
		if (r == HTTP_ERROR) {
			*used = total;
			return r;
		}
		/* Stop when the input is used up, unless the request just ended. */
		if (total == len && p->state != ST_DONE && p->state != ST_ERROR) {
			*used = total;
			return HTTP_NEED_MORE;
		}
	}
}
