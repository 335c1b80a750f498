#!/usr/bin/env python3
"""The origin behind the benchmark's Pushpin peer: Python's standard library
only, the API shape bench/fanout.c speaks (fanout --api grip), one channel
"room".  Pushpin holds the connections; this process only says what to hold
(GRIP: Grip-Hold, Grip-Channel) and publishes through Pushpin's HTTP publish
endpoint.

  GET  /get_msg?since=ID  long poll: the first message after ID from the
                          history at once, else "hold this response on room"
                          (prev-id = the last id: Pushpin asks again when a
                          message came in between, so none is lost)
  GET  /events            Server-Sent Events: "hold this stream on room"
  POST /ws                WebSocket over HTTP (Pushpin's route over_http):
                          OPEN is answered with OPEN and a GRIP control
                          message subscribing the socket to room
  POST /send_msg          form content=TEXT[&name=N]: the message gets the
                          next id, goes into the history and to Pushpin;
                          answers {"status":true,"id":N} once Pushpin took it
  GET  /holding           {"held":K}: how many polls were told to hold since
                          the last message (fanout waits for all N before the
                          next message: see "the re-poll race" below)

The re-poll race: a client that had message ID asks again; if message ID+1
is published after this origin answered "hold, prev-id=ID" but before
Pushpin holds the request, Pushpin does not see the gap until the next
message comes (then prev-ids disagree and it asks the origin again).  With
one message at a time there is no next message, so fanout --api grip waits
for every re-poll to be held before it sends (the latency of each message
still starts at its own send).

Publishes are grouped: one thread posts every message waiting at that moment
as one {"items": [...]} request (Pushpin's publish API takes many), in id
order, so prev-id chains hold under concurrent senders.

usage: origin.py PORT PUBLISH_URL
"""
import collections
import http.client
import json
import queue
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHANNEL = "room"
HOLD_SECONDS = 30
HISTORY = 1000
BATCH = 500

lock = threading.Lock()
history = collections.deque(maxlen=HISTORY)   # (id, json text), oldest first
last_id = 0
holds_by_prev = collections.Counter()        # prev-id -> polls told to hold
to_publish = queue.Queue()                    # (item, threading.Event)


def message_json(msg_id, content, sender):
    return json.dumps({"status": True, "msg": content, "id": msg_id, "from": sender,
                       "channel": CHANNEL, "dropped": 0}, separators=(",", ":"))


def grip_item(msg_id, text):
    return {"channel": CHANNEL, "id": str(msg_id), "prev-id": str(msg_id - 1),
            "formats": {"http-response": {"body": text + "\n"},
                        "http-stream": {"content": f"id: {msg_id}\ndata: {text}\n\n"},
                        "ws-message": {"content": text}}}


def publisher(url):
    """One thread: takes what is waiting, posts it as one batch, in order."""
    parts = urllib.parse.urlsplit(url)
    conn = None
    while True:
        batch = [to_publish.get()]
        while len(batch) < BATCH:
            try:
                batch.append(to_publish.get_nowait())
            except queue.Empty:
                break
        body = json.dumps({"items": [item for item, _ in batch]}).encode()
        for attempt in range(2):   # a kept connection Pushpin closed: once more
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("POST", parts.path, body, {"Content-Type": "application/json"})
                conn.getresponse().read()
                break
            except (OSError, http.client.HTTPException):
                conn = None
        for _, done in batch:
            done.set()


class Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body are two writes: without TCP_NODELAY the second
    # waits for the proxy's delayed ACK (40 ms a response).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def answer(self, body, headers=(), content_type="application/json"):
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.rstrip("/") == "/get_msg":
            since = int(urllib.parse.parse_qs(url.query).get("since", ["0"])[0] or 0)
            with lock:
                waiting = next((text for msg_id, text in history if msg_id > since), None)
                prev = last_id
                if waiting is None:
                    holds_by_prev[prev] += 1
            if waiting is not None:
                self.answer(waiting + "\n")
            else:
                self.answer('{"status":false,"msg":""}\n',
                            [("Grip-Hold", "response"), ("Grip-Channel", f"{CHANNEL}; prev-id={prev}"),
                             ("Grip-Timeout", str(HOLD_SECONDS))])
        elif url.path.rstrip("/") == "/holding":
            with lock:
                held = holds_by_prev[last_id]
            self.answer(json.dumps({"held": held}))
        elif url.path.rstrip("/") == "/events":
            self.answer(": hi\n\n", [("Grip-Hold", "stream"), ("Grip-Channel", CHANNEL)],
                        "text/event-stream")
        else:
            self.send_error(404)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/")
        if path == "/ws":
            self.websocket_events(self.body())
        elif path == "/send_msg":
            self.send_msg(urllib.parse.parse_qs(self.body().decode()))
        else:
            self.send_error(404)

    def websocket_events(self, events):
        reply = ""
        if events.startswith(b"OPEN"):
            control = "c:" + json.dumps({"type": "subscribe", "channel": CHANNEL})
            reply = f"OPEN\r\nTEXT {len(control):x}\r\n{control}\r\n"
        elif b"CLOSE" in events:
            reply = "CLOSE\r\n"
        self.answer(reply, [("Sec-WebSocket-Extensions", "grip")], "application/websocket-events")

    def send_msg(self, form):
        global last_id
        content = form.get("content", [""])[0]
        done = threading.Event()
        with lock:   # ids and the queue's order agree
            last_id += 1
            msg_id = last_id
            text = message_json(msg_id, content, form.get("name", [""])[0])
            history.append((msg_id, text))
            to_publish.put((grip_item(msg_id, text), done))
        done.wait(10)
        self.answer(json.dumps({"status": True, "id": msg_id}))


def main():
    port, publish_url = int(sys.argv[1]), sys.argv[2]
    threading.Thread(target=publisher, args=(publish_url,), daemon=True).start()
    ThreadingHTTPServer.request_queue_size = 4096
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Origin)
    print(f"pushpin origin listening on http://127.0.0.1:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
