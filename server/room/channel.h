/*
 * channel.h - channels: which clients a message for channel C goes to.
 *
 * A client is subscribed to an ordered list of channels; a new client is
 * in SRV_DEFAULT_CHANNEL ("room", the tutorial's one room), so everything
 * that knows no channels behaves as the tutorial does.  Each channel keeps
 * its subscribers in an array of its own, so a publish to it costs in
 * proportion to its subscribers, not to every client (broadcast.h).
 *
 * Limits: at most r's channels-per-client on one client, and at most its
 * max-channels distinct channels with a subscriber (an empty channel is
 * forgotten at once).  Names: 1-64 bytes of A-Z a-z 0-9 _ . : -.
 *
 * Thread-safety: every function from any thread; the caller holds a
 * reference to the client.  Changing a list takes the registry's table
 * exclusively, like a join.
 */
#ifndef PUSHQ_CHANNEL_H
#define PUSHQ_CHANNEL_H

#include "server/room/registry.h"

#include <stdbool.h>
#include <stddef.h>

#define SRV_CHANNEL_MAX SRV_TARGET_MAX    /* bytes of a channel name */
#define SRV_DEFAULT_CHANNEL "room"
#define SRV_CHANNELS_PER_CLIENT_MAX 64    /* the highest per-client limit there can be */

/* True when name[0..len) is a channel name. */
bool srv_channel_name_valid(const char *name, size_t len);

/* A list of channel names, as a request gives it. */
typedef struct srv_channel_list_s {
	size_t n;
	char names[SRV_CHANNELS_PER_CLIENT_MAX][SRV_CHANNEL_MAX + 1];
} srv_channel_list;

typedef enum {
	SRV_SUB_OK,
	SRV_SUB_BAD_NAME,       /* not a channel name */
	SRV_SUB_TOO_MANY,       /* past the client's limit */
	SRV_SUB_NO_ROOM,        /* past max-channels: a new channel cannot be made */
	SRV_SUB_NOMEM
} srv_sub_rc;

/* The limits (before clients join): channels per client (1 to
 * SRV_CHANNELS_PER_CLIENT_MAX) and distinct channels in all. */
void srv_registry_set_channel_limits(srv_registry *r, long per_client, long max_channels);

/* Makes c's list exactly `list` (in its order; a name twice counts once).
 * On a refusal the list is as it was (out of memory: it may be shorter). */
srv_sub_rc srv_client_set_channels(srv_registry *r, srv_client *c, const srv_channel_list *list);

/* Adds one channel at the end of c's list (already there: nothing to do),
 * or removes one (not there: nothing to do). */
srv_sub_rc srv_client_subscribe(srv_registry *r, srv_client *c, const char *channel);
srv_sub_rc srv_client_unsubscribe(srv_registry *r, srv_client *c, const char *channel);

/* c's channels now, in order, into out. */
void srv_client_channels(srv_registry *r, srv_client *c, srv_channel_list *out);

/* c's first channel into out[SRV_CHANNEL_MAX + 1]; false when it has none. */
bool srv_client_first_channel(srv_registry *r, srv_client *c, char *out);

/* How many distinct channels have a subscriber now. */
size_t srv_registry_channel_count(srv_registry *r);

#endif
