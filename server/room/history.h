/*
 * history.h - the last N messages of the room, for clients that resume
 * after a reconnect ("I have seen everything up to id X": docs/api.md,
 * "Resume").
 *
 * The history answers one question: which messages after id X does it
 * still hold, and from which id on does it hold them?  Anything older was
 * pushed out by newer messages and is lost for good.  That is all a resume
 * needs, so another store that can answer it (a Redis stream, read with
 * XRANGE) can take this one's place behind the same three calls.
 *
 * Messages are shared with the client queues (reference counted, message.h):
 * the history holds one reference to each message it keeps.
 *
 * It also keeps, for much longer, a *tag* of every message: its id and
 * whom it was for (a channel or one client, by a 62-bit name hash).  A tag
 * costs 8 bytes, so there are at least SRV_HISTORY_TAGS of them: a resume
 * can then count exactly how many of the messages it can no longer give
 * were for its client (resume.h), as long as they are among the last
 * SRV_HISTORY_TAGS messages; older ones are past counting.
 *
 * Thread-safety: none of its own.  The registry calls it only under its
 * `send` lock, which also orders the broadcasts, so ids in the history
 * always increase.
 */
#ifndef PUSHQ_HISTORY_H
#define PUSHQ_HISTORY_H

#include "server/room/message.h"

#include <stddef.h>
#include <stdint.h>

typedef struct srv_history srv_history;

#define SRV_HISTORY_TAGS 262144  /* tags kept at least (more if capacity is): 2 MiB */

/* A history of the last `capacity` messages (0: keeps none) and the tags
 * of the last max(capacity, SRV_HISTORY_TAGS).  NULL when out of memory. */
srv_history *srv_history_new(size_t capacity);

/* Releases every message held, and the history. */
void srv_history_free(srv_history *h);

/* Appends m (its id must be above the last one appended), taking a
 * reference to it, and its tag; the oldest goes when the history is full. */
void srv_history_append(srv_history *h, srv_msg *m);

/* A name hash as a tag keeps it: its top 62 bits. */
#define SRV_TAG_HASH(hash) ((hash) & ~(uint64_t)3)

/* Whether a tag counts: the message's id, SRV_TAG_HASH of the channel or
 * client name it went to, and whether it was direct (to one client). */
typedef bool srv_tag_match(uint64_t id, uint64_t hash, bool direct, void *ctx);

/*
 * How many messages with an id above `after` and below `before` match.
 * When the tags no longer reach back to after + 1, the count starts where
 * they do: *counted_after (may be NULL) is the id above which it counted
 * (`after`, or more).
 */
size_t srv_history_count_for(const srv_history *h, uint64_t after, uint64_t before,
                             srv_tag_match *match, void *ctx, uint64_t *counted_after);

/*
 * The messages with an id above `since`, oldest first: up to `max` of them
 * go into out[], each with a reference of its own for the caller.  Returns
 * how many.  *oldest_out is the lowest id the history holds (0 when it holds
 * nothing): ids between since + 1 and it are no longer here.
 */
size_t srv_history_after(const srv_history *h, uint64_t since, srv_msg **out,
                         size_t max, uint64_t *oldest_out);

/* How many messages it holds now. */
size_t srv_history_count(const srv_history *h);

#endif
