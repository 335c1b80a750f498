/* send.c - the send path: local broadcast or the Redis stream (see send.h). */
#include "server/room/send.h"
#include "server/room/broadcast.h"

srv_send_rc
srv_send_message(srv_registry *r, srv_bridge *b, const char *from, const char *text,
                 size_t len, uint64_t *id_out)
{
	uint64_t id;
	if (b != NULL) {
		if (!srv_bridge_publish(b, from, text, len, &id))
			return SRV_SEND_UNAVAILABLE;
	} else if (!srv_registry_broadcast(r, from, text, len, &id)) {
		return SRV_SEND_NOMEM;
	}
	if (id_out != NULL)
		*id_out = id;
	return SRV_SENT;
}
