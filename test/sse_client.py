#!/usr/bin/env python3
"""An independent Server-Sent Events client for check_sse.c, written from the
WHATWG HTML rules ("Server-sent events", "Interpreting an event stream") with
Python's standard library only.

It opens /events?name=py, sends three messages (one with line breaks, one with
CJK and a carriage return), reads them back as events, then drops the
connection, sends two more, and reconnects with Last-Event-ID the way a
browser does: exactly the two must arrive.  Exit 0 when all is well.

usage: sse_client.py PORT
"""
import http.client
import json
import sys
import urllib.parse
import urllib.request

PORT = int(sys.argv[1])


def post(text):
    body = urllib.parse.urlencode({"content": text, "name": "py"}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/send_msg", body, timeout=5) as r:
        assert r.status == 200, r.status


class EventStream:
    """One connection to /events, parsed line by line as a browser does."""

    def __init__(self, last_event_id=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/events?name=py", headers=headers)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.status
        assert self.resp.getheader("Content-Type").startswith("text/event-stream")
        assert self.resp.getheader("Content-Length") is None
        self.last_event_id = last_event_id or ""
        self.retry_ms = None

    def next_event(self):
        """Returns (last event id, type, data) of the next dispatched event."""
        data, event_type = [], ""
        while True:
            raw = self.resp.readline()
            if not raw:
                raise EOFError("stream ended")
            line = raw.decode("utf-8")
            if line.endswith("\r\n"):
                line = line[:-2]
            elif line.endswith("\n") or line.endswith("\r"):
                line = line[:-1]
            if line == "":
                if data:                         # dispatch
                    return self.last_event_id, event_type or "message", "\n".join(data)
                event_type = ""
                continue
            if line.startswith(":"):
                continue                         # a comment
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "data":
                data.append(value)
            elif field == "event":
                event_type = value
            elif field == "id" and "\0" not in value:
                self.last_event_id = value
            elif field == "retry" and value.isdigit():
                self.retry_ms = int(value)

    def close(self):
        self.conn.close()


def expect(stream, text):
    last_id, kind, data = stream.next_event()
    message = json.loads(data)
    assert kind == "message", kind
    assert message["status"] is True and message["msg"] == text, message
    assert str(message["id"]) == last_id, (message["id"], last_id)
    return int(last_id)


def main():
    texts = ["hello", "two\nlines\n", "你好 \r end"]
    stream = EventStream()
    for text in texts:
        post(text)
    ids = [expect(stream, text) for text in texts]
    assert ids == sorted(ids) and len(set(ids)) == 3, ids
    assert stream.retry_ms == 2000, stream.retry_ms
    stream.close()                               # the connection is cut

    post("after one")
    post("after two")
    stream = EventStream(last_event_id=str(ids[-1]))
    expect(stream, "after one")
    expect(stream, "after two")
    stream.close()
    print("sse_client: events and reconnect ok")


if __name__ == "__main__":
    main()
