#!/usr/bin/env python3
"""check_layers.py - the layers' rule (docs/design.md, "Layers"), enforced.

Every #include "..." in queue/, http/ and server/ must point down or
sideways, never up:

    server/main.c, routes, views, stats   (the top: may include anything)
    server/push/   server/lab/            (transports; the playground)
    server/core/                          (listen, connection, routes' type,
                                           static files, the watcher)
    server/room/                          (who gets what: knows no socket)
    server/common/   http/   queue/       (the ground)

push/ and lab/ never include each other; nothing below includes the top;
room/client.h (the room's insides) is included only inside room/.

Run from the repository root.  Exit 1 with one line per broken include.
--self-test checks the checker itself on made-up includes first.
"""
import os
import re
import sys

# Which folders each folder may include from (besides itself).
ALLOWED = {
    "queue": set(),
    "http": set(),
    "server/common": set(),
    "server/room": {"queue", "http", "server/common"},
    "server/core": {"queue", "http", "server/common", "server/room"},
    "server/push": {"queue", "http", "server/common", "server/room", "server/core"},
    "server/lab": {"queue", "http", "server/common", "server/room", "server/core"},
    "server": {"queue", "http", "server/common", "server/room", "server/core",
               "server/push", "server/lab"},
}
PRIVATE = {"server/room/client.h": "server/room",
           "server/room/bridge_link.h": "server/room"}   # header -> the only folder that may include it
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    return os.path.dirname(path)


def broken(includer, included):
    """Why includer may not include `included` (both repo-relative), or None."""
    here, there = folder_of(includer), folder_of(included)
    owner = PRIVATE.get(included)
    if owner is not None and here != owner:
        return f"{included} is {owner}'s inside"
    if there == here or here not in ALLOWED:
        return None
    if there not in ALLOWED[here]:
        return f"{here}/ may not include {there}/"
    return None


def sources(root="."):
    for top in ("queue", "http", "server"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(dirpath, name), root)


def includes(path, root="."):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                target = m.group(1)
                if "/" not in target:       # "foo.h": beside the includer
                    target = os.path.join(folder_of(path), target)
                yield number, target


def check(root="."):
    problems = []
    for path in sources(root):
        for number, target in includes(path, root):
            why = broken(path, target)
            if why:
                problems.append(f"{path}:{number}: includes {target}: {why}")
    return problems


def self_test():
    cases = [
        ("server/room/broadcast.c", "server/core/conn.h", True),     # room knows no socket
        ("server/push/sse.c", "server/lab/lab.h", True),             # push and lab apart
        ("server/lab/lab.c", "server/push/ws_session.h", True),
        ("server/core/conn.c", "server/routes.h", True),             # nothing includes the top
        ("http/ws.c", "queue/queue.h", True),                        # the ground stands alone
        ("server/push/longpoll.c", "server/room/client.h", True),    # the room's insides
        ("server/room/delivery.c", "server/room/client.h", False),
        ("server/push/longpoll.c", "server/room/delivery.h", False),
        ("server/routes.c", "server/lab/lab_http.h", False),
        ("server/core/server.h", "server/room/registry.h", False),
    ]
    for includer, included, should_break in cases:
        got = broken(includer, included) is not None
        if got != should_break:
            print(f"check_layers self-test: {includer} -> {included}: "
                  f"{'allowed' if not got else 'refused'}, expected the opposite")
            return False
    return True


def main():
    if "--self-test" in sys.argv:
        if not self_test():
            return 1
        print("check_layers: self-test ok")
        return 0
    problems = check()
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) against the layers (docs/design.md)")
        return 1
    print(f"check_layers: {sum(1 for _ in sources())} files, every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
