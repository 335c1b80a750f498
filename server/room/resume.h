/*
 * resume.h - a client that comes back says "I have seen everything up to
 * id X" (?since=, Last-Event-ID), and is given exactly what it has not.
 *
 * Thread-safety: from any thread; the caller holds a reference to c.
 */
#ifndef PUSHQ_RESUME_H
#define PUSHQ_RESUME_H

#include "server/room/registry.h"

#include <stdint.h>

/*
 * The client says it has seen every message up to id `since`.
 * From now on it is given every message with a higher id exactly once, in
 * id order -- what its queue still holds, then what the history holds that
 * its queue does not (its queue dropped it, or the client is new or was
 * reaped), then what is sent from now on -- and never one with a lower id.
 * Ids that neither holds any more are counted: the next message taken
 * carries them as gap.missed.  Drops counted before the resume are settled
 * by it (recovered, or counted as missed), so for every id above `since`
 * exactly one of these holds: it is delivered, or counted once in `missed`,
 * or counted once in `dropped`.  A `since` above the last id given out was
 * given out by an earlier run of the server: everything held is new to the
 * client then.  Returns the number of messages counted as missed.
 */
long srv_client_resume(srv_registry *r, srv_client *c, uint64_t since);

#endif
