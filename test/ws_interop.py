#!/usr/bin/python3
"""Interop: Debian's python3-websockets (a client nobody here wrote) against
pushq's /ws/echo and /ws chat.  Run by check_wsserver.c with the port of a
server started with --max-body 2097152.  Exit status 0 means every check held."""
import asyncio
import json
import sys
import urllib.request

import websockets

PORT = sys.argv[1]
BASE = f"127.0.0.1:{PORT}"


def http(path, data=None):
    with urllib.request.urlopen(f"http://{BASE}{path}", data=data, timeout=10) as r:
        return r.read()


async def echo():
    async with websockets.connect(f"ws://{BASE}/ws/echo", max_size=2**21) as ws:
        for n in (0, 1, 125, 126, 65535, 65536, 1 << 20):
            await ws.send("é" * (n // 2))
            assert await ws.recv() == "é" * (n // 2), n
            await ws.send(bytes(range(256)) * (n // 256))
            assert await ws.recv() == bytes(range(256)) * (n // 256), n
        await ws.send(["frag", "ment", "s"])          # a fragmented message
        assert await ws.recv() == "fragments"
        pong = await ws.ping(b"ping!")
        await asyncio.wait_for(pong, 5)
    assert ws.close_code == 1000, ws.close_code


async def chat():
    http("/ab_b1?name=py-poller")
    async with websockets.connect(f"ws://{BASE}/ws?name=py-ws") as ws:
        http("/send_msg", b"content=from+http&name=py-poller")
        got = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert got["status"] is True and got["msg"] == "from http", got
        assert got["from"] == "py-poller", got
        await ws.send("from websocket ✓")
        mine = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert mine["msg"] == "from websocket ✓" and mine["id"] > got["id"], mine
    polled = [json.loads(http("/get_msg?name=py-poller&timeout=5")) for _ in range(2)]
    assert [m["msg"] for m in polled] == ["from http", "from websocket ✓"], polled
    assert polled[1]["from"] == "py-ws", polled


async def main():
    await echo()
    await chat()
    print("ws_interop: echo and chat ok")


asyncio.run(main())
