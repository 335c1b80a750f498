#!/usr/bin/env python3
"""check_install.py - what `make install` gives a user, checked.

1. docs/pushq.1 renders with groff without a single warning, and
   `man -l` shows it;
2. every option `pushq --help` lists is in the man page;
3. `make install DESTDIR=BUILD/install-test` puts the binary, pages, man
   page and systemd example in place, and the installed binary, started
   with no --www, serves the installed pages (on 127.0.0.1, port 0), and
   stops with SIGTERM, exit 0.

usage: check_install.py BUILD/pushq BUILD
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request

MAN = "docs/pushq.1"


def fail(why):
    print(f"check_install: {why}")
    sys.exit(1)


def check_man(pushq):
    render = subprocess.run(["groff", "-ww", "-z", "-man", MAN], capture_output=True, text=True)
    if render.returncode != 0 or render.stderr.strip():
        fail(f"groff warns about {MAN}:\n{render.stderr}")
    shown = subprocess.run(["man", "-l", MAN], capture_output=True, text=True,
                           env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
    if shown.returncode != 0 or "pushq" not in shown.stdout:
        fail(f"man -l {MAN} does not show it: {shown.stderr}")
    text = open(MAN, encoding="utf-8").read().replace("\\-", "-")
    helptext = subprocess.run([pushq, "--help"], capture_output=True, text=True).stdout
    options = sorted(set(re.findall(r"(--[a-z][a-z-]*)", helptext)))
    missing = [o for o in options if o not in text]
    if missing:
        fail(f"{MAN} lacks {', '.join(missing)} (listed by --help)")
    return len(options)


def check_install(build):
    stage = os.path.abspath(os.path.join(build, "install-test"))
    shutil.rmtree(stage, ignore_errors=True)
    made = subprocess.run(["make", "--no-print-directory", "-s", f"BUILD={build}", "install",
                           f"DESTDIR={stage}", "PREFIX=/usr/local"], capture_output=True, text=True)
    if made.returncode != 0:
        fail(f"make install failed:\n{made.stdout}{made.stderr}")
    for path in ("bin/pushq", "share/pushq/www/index.html", "share/man/man1/pushq.1",
                 "share/doc/pushq/pushq.service"):
        if not os.path.exists(os.path.join(stage, "usr/local", path)):
            fail(f"make install did not install {path}")
    binary = os.path.join(stage, "usr/local/bin/pushq")
    # No --www: it must find the pages it was installed with (staged here).
    proc = subprocess.Popen([binary, "--port", "0", "--log", "warn"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd="/")
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            fail(f"the installed pushq did not start: {line!r} {proc.stderr.read()}")
        with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/", timeout=5) as r:
            body = r.read().decode("utf-8", "replace")
            if r.status != 200 or "pushq" not in body:
                fail(f"the installed pushq serves no index page ({r.status})")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=5)
    if code != 0:
        fail(f"the installed pushq exited {code} on SIGTERM")
    shutil.rmtree(stage, ignore_errors=True)


def main():
    pushq, build = sys.argv[1], sys.argv[2]
    n = check_man(pushq)
    check_install(build)
    print(f"check_install: man page clean, {n} options documented; make install serves its pages")


if __name__ == "__main__":
    main()
