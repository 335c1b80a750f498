/*
 * file_cache.h - small files under --www kept in memory (file_cache.c), so
 * that a page asked for thousands of times a second costs no open, fstat,
 * read and close each time: nginx's open_file_cache, in small.
 *
 * Freshness: an entry is trusted for SRV_FILE_FRESH_S seconds after it was
 * last checked.  After that the next request opens the file again -- the
 * same safe open as always (static.c) -- and offers what it found: when
 * device, inode, size and modification time are unchanged the bytes in
 * memory stay; otherwise they are read again.  So an edited page shows up
 * within a second, and a deleted one is 404 within a second.
 *
 * Lifetimes: an entry (srv_file) never changes once made.  A request takes
 * a reference (srv_file_cache_fresh / _offer), answers from it without any
 * lock, and gives it back (srv_file_release); a replaced entry is freed
 * when its last reader lets go.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef PUSHQ_FILE_CACHE_H
#define PUSHQ_FILE_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>

#define SRV_FILE_FRESH_S   1.0           /* seconds an entry is trusted unchecked */
#define SRV_FILE_CACHE_MAX (64 * 1024)   /* bytes: bigger files go by sendfile */
#define SRV_FILE_SLOTS     256           /* entries (direct-mapped by path) */

typedef struct srv_file_cache srv_file_cache;

/* One file's bytes, as they were when read. */
typedef struct {
	atomic_int refs;
	const char *type;        /* its Content-Type (a string that lives forever) */
	dev_t dev;               /* what it was read from: device, inode, */
	ino_t ino;
	off_t st_size;           /*   size and modification time */
	struct timespec mtime;
	size_t size;             /* bytes in data */
	char *data;
	char path[];             /* the request path it answers, e.g. "/" */
} srv_file;

/* An empty cache; NULL when out of memory. */
srv_file_cache *srv_file_cache_new(void);

/* Frees the cache and every entry nobody holds (call it when no request
 * runs any more).  NULL is a no-op. */
void srv_file_cache_free(srv_file_cache *fc);

/* The entry for path when it was checked less than SRV_FILE_FRESH_S before
 * `now` (srv_monotonic()), with a reference; else NULL. */
const srv_file *srv_file_cache_fresh(srv_file_cache *fc, const char *path, double now);

/*
 * After a real open: fd is the regular file path names now, st its fstat.
 * The cached entry when it is the same file (same device, inode, size and
 * modification time) -- marked checked at `now`; else the file read into a
 * new entry that replaces the old one.  With a reference.  NULL when the
 * file is bigger than SRV_FILE_CACHE_MAX or cannot be read or stored: the
 * caller serves it from fd.  Never closes fd; reads it from offset 0.
 */
const srv_file *srv_file_cache_offer(srv_file_cache *fc, const char *path, int fd,
                                     const struct stat *st, const char *type, double now);

/* Gives back a reference.  NULL is a no-op. */
void srv_file_release(const srv_file *f);

#endif
