/* send.c - the send path: local publish or the Redis stream (see send.h). */
#include "server/room/send.h"
#include "server/room/broadcast.h"

srv_send_rc
srv_send_message(srv_registry *r, srv_bridge *b, const srv_target *to, const char *from,
                 const char *text, size_t len, const char *event, srv_sent *out)
{
	srv_sent sent = { 0, -1 };
	if (b != NULL) {
		if (!srv_bridge_publish(b, to, from, text, len, event, &sent.id))
			return SRV_SEND_UNAVAILABLE;
	} else {
		size_t receivers = 0;
		switch (srv_registry_publish(r, to, from, text, len, event, &sent.id, &receivers)) {
		case SRV_PUBLISH_OK:
			sent.receivers = (long)receivers;
			break;
		case SRV_PUBLISH_UNKNOWN:
			return SRV_SEND_UNKNOWN;
		default:
			return SRV_SEND_NOMEM;
		}
	}
	if (out != NULL)
		*out = sent;
	return SRV_SENT;
}
