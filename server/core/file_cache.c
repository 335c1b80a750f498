/*
 * file_cache.c - small files under --www kept in memory (see file_cache.h).
 *
 * A fixed table of SRV_FILE_SLOTS slots, each holding at most one entry:
 * a path always goes to the slot its hash picks, and a new path there
 * replaces the old one (a direct-mapped cache: no list to walk, no
 * eviction policy to get wrong).  One read-write lock guards the table:
 * the common case, a fresh entry, only reads (many threads at once); a
 * check or a new entry writes.  It is held only to look at a slot or swap
 * its entry -- never while a file is read or an answer written.
 */
#include "server/core/file_cache.h"
#include "server/room/message.h"   /* srv_name_hash: FNV-1a */

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	srv_file *file;       /* NULL: empty */
	double checked;       /* srv_monotonic() when it was last seen unchanged */
} file_slot;

struct srv_file_cache {
	pthread_rwlock_t lock;
	file_slot slots[SRV_FILE_SLOTS];
};

srv_file_cache *
srv_file_cache_new(void)
{
	srv_file_cache *fc = calloc(1, sizeof(*fc));
	if (fc != NULL)
		pthread_rwlock_init(&fc->lock, NULL);
	return fc;
}

void
srv_file_release(const srv_file *f)
{
	srv_file *file = (srv_file *)f;   /* the count is the one mutable field */
	if (file != NULL && atomic_fetch_sub(&file->refs, 1) == 1) {
		free(file->data);
		free(file);
	}
}

void
srv_file_cache_free(srv_file_cache *fc)
{
	if (fc == NULL)
		return;
	for (size_t i = 0; i < SRV_FILE_SLOTS; i++)
		srv_file_release(fc->slots[i].file);
	pthread_rwlock_destroy(&fc->lock);
	free(fc);
}

static file_slot *
slot_of(srv_file_cache *fc, const char *path)
{
	return &fc->slots[srv_name_hash(path) % SRV_FILE_SLOTS];
}

/* The slot's entry with one more reference (fc->lock held, either way:
 * the count is atomic). */
static srv_file *
take(file_slot *slot)
{
	atomic_fetch_add(&slot->file->refs, 1);
	return slot->file;
}

const srv_file *
srv_file_cache_fresh(srv_file_cache *fc, const char *path, double now)
{
	srv_file *found = NULL;
	file_slot *slot = slot_of(fc, path);
	pthread_rwlock_rdlock(&fc->lock);
	if (slot->file != NULL && strcmp(slot->file->path, path) == 0 &&
	    now - slot->checked < SRV_FILE_FRESH_S)
		found = take(slot);
	pthread_rwlock_unlock(&fc->lock);
	return found;
}

/* The same file as when f was read: nothing about it changed. */
static bool
same_file(const srv_file *f, const struct stat *st)
{
	return f->dev == st->st_dev && f->ino == st->st_ino && f->st_size == st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* All of fd's `size` bytes (pread from 0) in a new entry; NULL on failure
 * or a file that changed size while it was read. */
static srv_file *
read_entry(const char *path, int fd, const struct stat *st, const char *type)
{
	size_t size = (size_t)st->st_size, path_len = strlen(path);
	srv_file *f = calloc(1, sizeof(*f) + path_len + 1);
	char *data = malloc(size ? size : 1);
	size_t got = 0;
	while (f != NULL && data != NULL && got < size) {
		ssize_t n = pread(fd, data + got, size - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (f == NULL || data == NULL || got != size) {
		free(f);
		free(data);
		return NULL;
	}
	atomic_init(&f->refs, 1);       /* the slot's */
	f->type = type;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->st_size = st->st_size;
	f->mtime = st->st_mtim;
	f->size = size;
	f->data = data;
	memcpy(f->path, path, path_len + 1);
	return f;
}

const srv_file *
srv_file_cache_offer(srv_file_cache *fc, const char *path, int fd, const struct stat *st,
                     const char *type, double now)
{
	if (st->st_size < 0 || st->st_size > SRV_FILE_CACHE_MAX)
		return NULL;
	file_slot *slot = slot_of(fc, path);
	srv_file *found = NULL;
	pthread_rwlock_wrlock(&fc->lock);
	if (slot->file != NULL && strcmp(slot->file->path, path) == 0 &&
	    same_file(slot->file, st)) {
		slot->checked = now;              /* unchanged: trusted for another while */
		found = take(slot);
	}
	pthread_rwlock_unlock(&fc->lock);
	if (found != NULL)
		return found;

	srv_file *fresh = read_entry(path, fd, st, type);   /* no lock while reading */
	if (fresh == NULL)
		return NULL;
	pthread_rwlock_wrlock(&fc->lock);
	srv_file *old = slot->file;
	slot->file = fresh;
	slot->checked = now;
	found = take(slot);
	pthread_rwlock_unlock(&fc->lock);
	srv_file_release(old);                /* freed once its last reader is done */
	return found;
}
