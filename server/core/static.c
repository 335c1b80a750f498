/*
 * static.c - files under --www, for GET and HEAD.
 *
 * The path goes through one pipeline, as in OpenBSD's httpd:
 *   percent-decode (a bad %XX or an encoded NUL is 400)
 *   -> check each segment: ".." is 400, a dotfile or "." is 404
 *   -> "/" and "dir/" mean their index.html
 *   -> open it beneath the --www directory without following any symlink,
 *      in any component (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
 *      or, where the kernel lacks it, a walk one component at a time with
 *      O_NOFOLLOW), and without blocking (a FIFO would hang the thread);
 *      only a regular file is served.
 * No request can name a file outside --www.
 *
 * Small files are then kept in memory for a second at a time
 * (file_cache.h): a page asked for again and again costs no system call
 * but the answer's own write.
 */
#include "server/core/static.h"
#include "server/core/file_cache.h"
#include "server/common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

/* The longest decoded path served (a longer one is 414).  Paths live on
 * the connection thread's small stack, so they are kept short. */
#define STATIC_PATH_MAX 1024

/* Files up to this size are copied into the answer; bigger ones go by
 * sendfile (conn.h: no more than this waits in a connection's buffer). */
#define STATIC_INLINE_MAX SRV_OUT_PENDING_MAX

/* How files are opened: read-only, and never blocking (a FIFO under --www
 * would otherwise hold the thread until a writer came). */
#define STATIC_OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK)

static const struct { const char *ext, *type; } mime_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "wasm", "application/wasm" },
	{ "woff2", "font/woff2" },
};

static const char *
mime_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (dot != NULL && (slash == NULL || dot > slash))
		for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
			if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
	return "application/octet-stream";
}

/* 0 when every segment of the decoded path is safe, else the status. */
static int
check_segments(const char *path)
{
	const char *seg = path;
	while (*seg != '\0') {
		while (*seg == '/')
			seg++;
		size_t len = strcspn(seg, "/");
		if (len == 2 && seg[0] == '.' && seg[1] == '.')
			return 400;
		if (len > 0 && seg[0] == '.')
			return 404;         /* dotfiles and "." are never served */
		seg += len;
	}
	return 0;
}

/* Reads all `size` bytes of fd into a new buffer; NULL on failure. */
static char *
read_whole(int fd, size_t size)
{
	char *data = malloc(size ? size : 1);
	size_t got = 0;
	while (data != NULL && got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n <= 0) {
			free(data);
			return NULL;
		}
		got += (size_t)n;
	}
	return data;
}

/* Sends the open file `fd` of `size` bytes as a 200 answer. */
static void
send_file(srv_conn *c, int fd, size_t size, const char *type)
{
	if (c->head_only) {
		srv_respond_head(c, 200, type, size, NULL);
		return;
	}
	if (size <= STATIC_INLINE_MAX) {
		char *data = read_whole(fd, size);
		if (data == NULL)
			srv_respond_status(c, 500, NULL);
		else
			srv_respond(c, 200, type, data, size, NULL);
		free(data);
		return;
	}
	/* Large: the head now, then the kernel copies the file to the socket. */
	srv_respond_head(c, 200, type, size, NULL);
	if (!srv_flush(c)) {
		c->keep_alive = false;
		return;
	}
	/* Non-blocking for the copy, so that a peer that reads nothing cannot
	 * hold this thread past the server's stop (srv_wait_writable). */
	int flags = fcntl(c->fd, F_GETFL);
	fcntl(c->fd, F_SETFL, flags | O_NONBLOCK);
	off_t offset = 0;
	bool ok = true;
	while (ok && (size_t)offset < size) {
		ssize_t n = sendfile(c->fd, fd, &offset, size - (size_t)offset);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		ok = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && srv_wait_writable(c->s, c->fd);
	}
	fcntl(c->fd, F_SETFL, flags);
	if (!ok)
		c->keep_alive = false;   /* the peer saw a short body */
}

/* The walk: every directory on the way opened with O_NOFOLLOW, each one
 * relative to the one before, so neither a symlink nor ".." can lead out. */
static int
open_walk(int root_fd, const char *path)
{
	int dir = root_fd;
	const char *p = path;
	for (;;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		char name[NAME_MAX + 1];
		if (len > NAME_MAX) {
			errno = ENAMETOOLONG;
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		while (*p == '/')
			p++;
		bool last = *p == '\0';
		if (strcmp(name, "..") == 0) {
			errno = EXDEV;          /* never above the root */
			break;
		}
		int next = openat(dir, len == 0 ? "." : name,
		                  last ? STATIC_OPEN_FLAGS | O_NOFOLLOW
		                       : O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW);
		if (dir != root_fd)
			close(dir);
		if (next < 0 || last)
			return next;
		dir = next;
	}
	if (dir != root_fd) {
		int saved = errno;
		close(dir);
		errno = saved;
	}
	return -1;
}

int
srv_open_beneath(int root_fd, const char *path, bool walk_only)
{
#ifdef SYS_openat2
	if (!walk_only) {
		struct open_how how = { .flags = STATIC_OPEN_FLAGS,
		                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
		int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;              /* EPERM: a seccomp filter said no */
	}
#endif
	(void)walk_only;
	return open_walk(root_fd, path);
}

/* Opens `decoded` (a safe path starting with '/') under --www, with
 * "index.html" appended to a directory.  Returns the descriptor, or -1
 * with errno set; *path_out gets the relative path opened (for its type). */
static int
open_under_www(srv_conn *c, const char *decoded, char *path_out, size_t cap)
{
	size_t len = strlen(decoded);
	bool dir = len == 0 || decoded[len - 1] == '/';
	snprintf(path_out, cap, ".%s%s", decoded, dir ? "index.html" : "");
	int fd = srv_open_beneath(c->s->www_fd, path_out, false);
	struct stat st;
	if (fd >= 0 && !dir && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);     /* "/dir" without the slash: its index too */
		snprintf(path_out, cap, ".%s/index.html", decoded);
		fd = srv_open_beneath(c->s->www_fd, path_out, false);
	}
	return fd;
}

/* A 200 from the bytes in memory (file_cache.h), written from there: no
 * copy into the connection's buffer. */
static void
send_cached(srv_conn *c, const srv_file *f)
{
	srv_respond_now(c, 200, f->type, f->data, f->size);
}

/* Serves `decoded`, a safe path relative to --www starting with '/': from
 * memory while the cache trusts it (no system call), else opened again --
 * safely, as above -- and offered to the cache, which keeps small files. */
static void
serve_path(srv_conn *c, const char *decoded)
{
	srv_file_cache *files = c->s->files;
	double now = srv_monotonic();
	const srv_file *f = files != NULL ? srv_file_cache_fresh(files, decoded, now) : NULL;
	if (f != NULL) {
		send_cached(c, f);
		srv_file_release(f);
		return;
	}
	char path[STATIC_PATH_MAX + sizeof("./index.html") + 1];
	int fd = open_under_www(c, decoded, path, sizeof(path));
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		srv_respond_status(c, fd < 0 && errno == EACCES ? 403 : 404, NULL);
	} else {
		const char *type = mime_type(path);
		f = files != NULL ? srv_file_cache_offer(files, decoded, fd, &st, type, now) : NULL;
		if (f != NULL)
			send_cached(c, f);
		else
			send_file(c, fd, (size_t)st.st_size, type);   /* big: sendfile */
		srv_file_release(f);
	}
	if (fd >= 0)
		close(fd);
}

void
srv_serve_static(srv_conn *c, const http_request *req)
{
	char decoded[STATIC_PATH_MAX + 1];
	if (http_path_decode(req->path, req->path_len, decoded, sizeof(decoded)) < 0) {
		srv_respond_status(c, req->path_len > STATIC_PATH_MAX ? 414 : 400, NULL);
		return;
	}
	int status = check_segments(decoded);
	if (status != 0)
		srv_respond_status(c, status, NULL);
	else
		serve_path(c, decoded);
}

void
srv_serve_file(srv_conn *c, const char *relative_path)
{
	char path[STATIC_PATH_MAX + 1];
	snprintf(path, sizeof(path), "/%s", relative_path);
	serve_path(c, path);
}
