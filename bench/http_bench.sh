#!/usr/bin/env bash
# `make bench-http`: wrk against pushq and against nginx serving the same
# file, in the same run (shared machines are noisy; ratios are what count).
#
#   1. GET /            static page: pushq vs nginx (skipped with a note if
#                       nginx is not installed)
#   2. POST /send_msg   with 100 idle registered clients: pushq alone
#
# usage: bench/http_bench.sh [PUSHQ_BINARY]   (env: DURATION=10s CONNS=50)
# Everything runs on 127.0.0.1 and every process started here is stopped
# by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

pushq_bin=${1:-build/pushq}
duration=${DURATION:-10s}
conns=${CONNS:-50}
threads=2
source bench/lib.sh

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Requests/s from one wrk run; the command is printed with its figure.
wrk_rps() {
	local out
	out=$(wrk -t"$threads" -c"$conns" -d"$duration" "$@" 2>&1)
	echo "  \$ wrk -t$threads -c$conns -d$duration $*" >&2
	echo "$out" | awk '/Requests\/sec/ {print $2}'
	if echo "$out" | grep -q "Non-2xx"; then echo "  warning: $(echo "$out" | grep Non-2xx)" >&2; fi
}

start_nginx() {
	local port=$1
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { text/html html; }
    client_body_temp_path $tmp/nginx;
    proxy_temp_path $tmp/nginx;
    fastcgi_temp_path $tmp/nginx;
    uwsgi_temp_path $tmp/nginx;
    scgi_temp_path $tmp/nginx;
    server {
        listen 127.0.0.1:$port;
        root $PWD/www;
        index index.html;
    }
}
CONF
	nginx -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" 2>/dev/null &
	pids+=($!)
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.05
	done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

start_pushq "$pushq_bin"
echo "pushq on 127.0.0.1:$port ($(stat -c %s www/index.html)-byte index.html)"
echo
echo "1. static GET / (keep-alive)"
pushq_static=$(wrk_rps "http://127.0.0.1:$port/")
nginx_static=""
if command -v nginx >/dev/null; then
	nport=$(free_port)
	start_nginx "$nport"
	nginx_static=$(wrk_rps "http://127.0.0.1:$nport/")
else
	echo "  nginx is not installed (apt-get install nginx-light): skipped" >&2
fi

echo
echo "2. POST /send_msg with 100 idle registered clients"
for i in $(seq 100); do
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	printf 'GET /ab_b1?name=idle%d HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n' "$i" >&3
	cat <&3 >/dev/null
	exec 3<&-
done
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "content=hello+from+wrk"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
pushq_send=$(wrk_rps -s "$tmp/post.lua" "http://127.0.0.1:$port/send_msg")

echo
printf '%-34s %14s %14s %8s\n' "scenario (wrk -t$threads -c$conns)" "pushq req/s" "nginx req/s" "ratio"
printf '%-34s %14s %14s %8s\n' "GET / static" "$pushq_static" "${nginx_static:-skipped}" \
	"$(ratio "$pushq_static" "${nginx_static:-0}")"
printf '%-34s %14s %14s %8s\n' "POST /send_msg, 100 idle clients" "$pushq_send" "-" "-"
