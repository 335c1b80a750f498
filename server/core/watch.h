/*
 * watch.h - notices when the client of a waiting long poll hangs up.
 *
 * A /get_msg blocks its connection's thread in its client's queue (the
 * design card).  While it sleeps, nobody reads its socket: a client that
 * went away would keep the thread and its --max-conns slot until
 * --poll-timeout ran out, and a stream of abandoned polls could fill every
 * slot without holding one socket.
 *
 * DESIGN
 * One watcher thread holds every parked socket in one epoll set, waiting
 * for a hang-up only: EPOLLRDHUP (the peer's FIN), EPOLLHUP and EPOLLERR (a
 * reset).  A poll parks its socket before it waits and unparks it after.
 * On a hang-up the watcher sets that poll's `hung_up` flag and wakes the
 * getters of its client's queue (srv_client_wake); the poll's cancellable
 * take sees its flag and returns QUEUE_CANCELLED at once.  Another poll on
 * the same name wakes too, finds its own flag false, and waits on.
 *
 * The parked sockets live in a table indexed by descriptor, made once at
 * the size of the open-file limit and never moved, so the flag's address
 * stays valid.  Each parking bumps the entry's generation, and epoll
 * carries (generation, fd): an event that arrives after its poll unparked
 * (and the descriptor was perhaps reused) names an old generation and is
 * ignored, and so a socket can stay in the set between the polls of a
 * keep-alive connection: each poll re-arms it with one epoll_ctl.  Striped
 * mutexes (by descriptor) guard the table; the polls hold one for a few
 * instructions, the watcher also while it wakes a queue's getters (lock
 * order: a stripe's mutex, then a queue's).
 *
 * Thread-safety: park/unpark from any connection thread, one park at a time
 * per descriptor; srv_watch_main in one thread of its own.
 */
#ifndef PUSHQ_WATCH_H
#define PUSHQ_WATCH_H

#include "server/room/registry.h"

#include <stdatomic.h>
#include <stdbool.h>

typedef struct srv_watch srv_watch;

/*
 * A watcher for descriptors below max_fds.  stop_fd (an eventfd) ends
 * srv_watch_main when it becomes readable.  NULL when out of resources.
 */
srv_watch *srv_watch_new(int max_fds, int stop_fd);

/* Frees it; srv_watch_main must have returned.  NULL is a no-op. */
void srv_watch_free(srv_watch *w);

/* The watcher thread: runs until stop_fd is readable. */
void *srv_watch_main(void *w);

/*
 * Watches fd, whose poll is about to wait on client c (the caller holds a
 * reference to c until it unparks).  Returns the flag that becomes true on
 * a hang-up -- pass it to srv_client_take -- or NULL when fd cannot be
 * watched (the poll then simply waits its time, as before).
 */
const atomic_bool *srv_watch_park(srv_watch *w, int fd, srv_client *c);

/* Stops watching fd.  True when its client hung up while it was parked. */
bool srv_watch_unpark(srv_watch *w, int fd);

#endif
