#!/usr/bin/env bash
# bench/run.sh - the benchmark suite behind `make bench` (full, about 15 min) and
# `make bench-quick` (about 3 min): pushq against the peers a user would
# otherwise pick, started and stopped here, in the same run, on 127.0.0.1.
#
#   peers: nginx (static), civetweb (bench/peers/civetweb), the seed's Django
#   app (bench/peers/django_seed), Node's ws (bench/peers/node_ws), nchan
#   (bench/peers/nchan: Debian's libnginx-mod-nchan in an nginx of its own)
#   and Pushpin (bench/peers/pushpin: Debian's pushpin in front of a Python
#   origin that holds with GRIP), each configured in a temp dir, started
#   and stopped here by PID.
#   A peer that is not installed is skipped with a note, never faked.
#
# Every figure goes to BUILD/bench/results.tsv with the command that made it;
# bench/report.py turns that into the table on stdout, BUILD/bench/report.md
# and BUILD/bench/fanout.svg.
#
# usage: bench/run.sh full|quick BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

mode=${1:-quick}
build=${2:-build}
out="$build/bench"
mkdir -p "$out"
results="$out/results.tsv"
: >"$results"
fanout="$build/fanout"
civetweb="$build/civetweb_peer"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$mode" = quick ]; then
	duration=5s; conc_list="50"; lp_list="100 1000"; ws_list="1000"; sse_list="1000"; messages=20
	django_lp_list="100"; ws_rate_n=1000; echo_s=2; listen_n=1000
	chan_rounds=4; chan_s=2s; chan_modes="lp ws"
	# the event-loop peers: nchan where pushq is measured, Pushpin's long
	# poll (every poll passes its Python origin) at N=100 only
	nchan_lp_list="100 1000"; pushpin_lp_list="100"; pushpin_lp_messages=10
	rss_min_n=1000; floor_rounds=10; peers_at_rate=""
else
	duration=10s; conc_list="50 200"; lp_list="100 1000 10000"; ws_list="100 1000 10000"
	sse_list="100 1000 10000"; messages=40
	django_lp_list="100 1000"; ws_rate_n=1000; echo_s=5; listen_n=10000
	chan_rounds=6; chan_s=3s; chan_modes="lp ws sse"
	nchan_lp_list="100 1000 10000"; pushpin_lp_list="100 1000 10000"; pushpin_lp_messages=5
	rss_min_n=10000; floor_rounds=20; peers_at_rate="nchan pushpin"
fi

note() { echo "  note: $*" >&2; echo -e "note\t-\t-\t-\t-\t$*" >>"$results"; }

# record SCENARIO SERVER VALUE UNIT higher|lower COMMAND
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }

have() { command -v "$1" >/dev/null 2>&1; }

wait_port() {
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on $1" >&2
	return 1
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# --------------------------------------------------------------- servers
# Each start_* sets $port and $server_pid.
start_pushq_server() {
	start_pushq "$build/pushq" --max-conns 30000 "$@"
	server_pid=$pushq_pid
}

start_civetweb() {
	port=$(free_port)
	"$civetweb" "$port" www "${1:-200}" >"$tmp/civetweb.out" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	wait_port "$port"
}

start_django() {
	port=$(free_port)
	(cd bench/peers/django_seed && exec /usr/bin/python3 manage.py runserver "127.0.0.1:$port" --noreload) \
		>"$tmp/django.out" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	wait_port "$port"
}

start_node() {
	port=$(free_port)
	node bench/peers/node_ws/server.mjs "$port" >"$tmp/node.out" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	wait_port "$port"
}

start_nginx_server() {
	port=$(free_port)
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
    types { text/html html; }
    client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
    uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
    server { listen 127.0.0.1:$port; root $PWD/www; index index.html; }
}
CONF
	nginx -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" 2>/dev/null &
	server_pid=$!
	pids+=("$server_pid")
	wait_port "$port"
}

# nchan: nginx with Debian's module, master and workers (worker_processes
# auto); $server_pid is the master, $server_pids all of them.
nchan_module=/usr/lib/nginx/modules/ngx_nchan_module.so
start_nchan() {
	port=$(free_port)
	local dir="$tmp/nchan-$port" nofile
	mkdir -p "$dir"
	nofile=$(ulimit -n)
	sed -e "s|@MODULE@|$nchan_module|; s|@DIR@|$dir|g; s|@PORT@|$port|" \
		-e "s|@NOFILE@|$nofile|; s|@CONNECTIONS@|$((nofile - 100))|" \
		bench/peers/nchan/nginx.conf >"$dir/nginx.conf"
	nginx -c "$dir/nginx.conf" -e "$dir/error.log" 2>/dev/null &
	server_pid=$!
	pids+=("$server_pid")
	wait_port "$port"
	server_pids="$server_pid,$(children_of "$server_pid")"
}

# Pushpin: its runner and the services it starts (condure, zurl,
# pushpin-proxy, pushpin-handler), then the origin (last: fanout prints the
# origin's share of the CPU).  $server_pid is the runner, $origin_pid the
# origin, $server_pids all of them; $port is Pushpin's HTTP port.
start_pushpin() {
	port=$(free_port)
	local dir="$tmp/pushpin-$port" publish_port origin_port
	publish_port=$(free_port)
	origin_port=$(free_port)
	mkdir -p "$dir/run" "$dir/log"
	sed -e "s|@DIR@|$dir|g; s|@PORT@|$port|; s|@PUBLISH_PORT@|$publish_port|" \
		bench/peers/pushpin/pushpin.conf >"$dir/pushpin.conf"
	echo "* 127.0.0.1:$origin_port,over_http" >"$dir/routes"
	python3 bench/peers/pushpin/origin.py "$origin_port" "http://127.0.0.1:$publish_port/publish/" \
		>"$dir/origin.out" 2>&1 &
	origin_pid=$!
	pids+=("$origin_pid")
	pushpin --config="$dir/pushpin.conf" >"$dir/pushpin.out" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	wait_port "$origin_port"
	wait_port "$publish_port"
	wait_port "$port"
	# the runner starts its four services one after another
	for _ in $(seq 100); do
		[ "$(ps -o pid= --ppid "$server_pid" | wc -l)" -ge 4 ] && break
		sleep 0.05
	done
	# ...and answers 500 (or refuses an upgrade) until they are connected
	# to each other: ready once a request through it reaches the origin.
	python3 - "$port" <<-'PY' || note "Pushpin on $port did not answer 200 within 10 s"
		import sys, time, urllib.request
		for _ in range(200):
		    try:
		        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/holding", timeout=2) as r:
		            if r.status == 200:
		                sys.exit(0)
		    except OSError:
		        pass
		    time.sleep(0.05)
		sys.exit(1)
	PY
	server_pids="$server_pid,$(children_of "$server_pid"),$origin_pid"
}

stop_pushpin() { stop_pid "$server_pid"; stop_pid "$origin_pid"; }

# children_of PID: its child processes, comma-separated
children_of() { ps -o pid= --ppid "$1" | tr -d ' ' | paste -sd, -; }

have_nchan() { have nginx && [ -f "$nchan_module" ]; }
have_pushpin() { have pushpin && have condure && have zurl; }

have_civetweb() { [ -x "$civetweb" ]; }
have_django() { /usr/bin/python3 -c 'import django' 2>/dev/null; }
have_node_ws() { have node && [ -f /usr/share/nodejs/ws/index.js ]; }

# ------------------------------------------------------------- measuring
# wrk_rps SCENARIO SERVER CONNS URL [wrk args...]
wrk_rps() {
	local scenario=$1 server=$2 conns=$3 url=$4
	shift 4
	local cmd="wrk -t2 -c$conns -d$duration $* $url"
	local output
	output=$($cmd 2>&1) || true
	local rps
	rps=$(echo "$output" | awk '/Requests\/sec/ {print $2}')
	local errors
	errors=$(echo "$output" | grep -E "Non-2xx|Socket errors" | tr -s ' ' | tr '\n' ';' || true)
	printf '  %-44s %-9s %10s req/s %s\n' "$scenario" "$server" "${rps:-failed}" "$errors"
	record "$scenario" "$server" "${rps:-0}" "req/s" higher "$cmd${errors:+ ($errors)}"
}

# fanout_run SCENARIO SERVER ARGS... : runs build/fanout, records its RESULT
# (with $fanout_api set: fanout --api $fanout_api, a peer's API)
fanout_run() {
	local scenario=$1 server=$2
	shift 2
	local cmd="$fanout ${fanout_api:+--api $fanout_api }$*"
	local output status=0
	output=$(timeout 300 $cmd 2>&1) || status=$?
	echo "$output" | grep -v '^RESULT' | sed 's/^/    /'
	local result
	result=$(echo "$output" | grep '^RESULT' || true)
	if [ -z "$result" ]; then
		local why="$cmd (exit $status: $(echo "$output" | tail -1))"
		case "$1" in
		echo) record "$scenario" "$server" 0 "failed" higher "$why" ;;
		*) record "$scenario p99" "$server" 0 "failed" lower "$why" ;;
		esac
		return
	fi
	eval "$(echo "$result" | sed 's/^RESULT //' | tr ' ' '\n' | sed 's/^/r_/')"
	local failed=""
	[ "$r_missing" = 0 ] && [ "$r_duplicated" = 0 ] || failed=" (MISSING $r_missing, DUPLICATED $r_duplicated)"
	# With a CHANNEL (argument 7): deliveries of another channel, wrong "receivers".
	[ "${r_wrong_channel:-0}" = 0 ] && [ "${r_receivers_off:-0}" = 0 ] ||
		failed="$failed (WRONG CHANNEL $r_wrong_channel, RECEIVERS OFF $r_receivers_off)"
	case "$r_mode" in
	echo)
		record "$scenario" "$server" "$r_rate" "round trips/s" higher "$cmd" ;;
	*)
		record "$scenario p99" "$server" "$r_p99" "ms" lower "$cmd$failed"
		record "$scenario deliveries/s" "$server" "$r_rate" "deliveries/s" higher "$cmd$failed"
		[ "$r_cpu_us" = "0.000" ] || record "$scenario CPU per delivery" "$server" "$r_cpu_us" "us" lower "$cmd"
		# The chart: one message at a time only (argument 5 is the rate), the whole room.
		[ "${5:-0}" = 0 ] && [ -z "${7:-}" ] && echo -e "fanout\t$server\t$r_mode\t$r_n\t$r_p99\t$r_missing" >>"$out/fanout.tsv"
		;;
	esac
	# Memory per idle client: the whole room, one message at a time, measured.
	[ -n "${r_rss_per_client_kib:-}" ] && [ "${r_n:-0}" -ge "$rss_min_n" ] &&
		[ "${5:-0}" = 0 ] && [ -z "${7:-}" ] && [ -n "${6:-}" ] &&
		record "RSS per idle $r_mode client, N=$r_n" "$server" "$r_rss_per_client_kib" "KiB" lower "$cmd"
	unset r_mode r_n r_rss_per_client_kib r_wrong_channel r_receivers_off
}

: >"$out/fanout.tsv"
echo "pushq benchmark suite ($mode) — $(nproc) cores; pushq thread stack 128 KiB; results in $out/"
note "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); ulimit -n $(ulimit -n); pushq connection threads have 128 KiB stacks (SRV_THREAD_STACK); $(date -u '+%Y-%m-%d %H:%M UTC'), mode $mode"

# 1. static GET /
echo "1. static GET / ($(stat -c %s www/index.html)-byte page, keep-alive)"
for conns in $conc_list; do
	start_pushq_server
	wrk_rps "GET / static, -c$conns" pushq "$conns" "http://127.0.0.1:$port/"
	stop_pid "$server_pid"
	if have nginx; then
		start_nginx_server
		wrk_rps "GET / static, -c$conns" nginx "$conns" "http://127.0.0.1:$port/"
		stop_pid "$server_pid"
	else note "nginx not installed (apt-get install nginx-light): skipped"; fi
	if have_civetweb; then
		start_civetweb 256
		wrk_rps "GET / static, -c$conns" civetweb "$conns" "http://127.0.0.1:$port/"
		stop_pid "$server_pid"
	else note "civetweb peer not built (apt-get install libcivetweb-dev): skipped"; fi
done

# 2. POST /send_msg with 0 and 1,000 idle registered clients
cp bench/wrk/send_msg.lua "$tmp/post.lua"     # the script users get (bench/wrk/)
echo "2. POST /send_msg"
for idle in 0 1000; do
	[ "$mode" = quick ] && [ "$idle" = 0 ] && continue
	start_pushq_server
	[ "$idle" -gt 0 ] && "$fanout" register "$port" "$idle" idle >/dev/null
	wrk_rps "POST /send_msg, $idle idle clients, -c50" pushq 50 "http://127.0.0.1:$port/send_msg/" -s "$tmp/post.lua"
	stop_pid "$server_pid"
	if have_django; then
		start_django
		[ "$idle" -gt 0 ] && "$fanout" register "$port" "$idle" idle >/dev/null
		wrk_rps "POST /send_msg, $idle idle clients, -c50" django 50 "http://127.0.0.1:$port/send_msg/" -s "$tmp/post.lua"
		stop_pid "$server_pid"
	else note "python3-django not installed: Django skipped"; fi
done

# 2b. the publish path alone: POST a message into a room nobody listens to,
# as fast as wrk can (pushq /send_msg; nchan's publisher location; Pushpin's
# origin /send_msg through Pushpin, which posts it to Pushpin's publish
# endpoint, batched).
echo "2b. publish rate, no subscribers"
cat >"$tmp/nchan_pub.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"msg":"hello from wrk"}'
wrk.headers["Content-Type"] = "application/json"
LUA
start_pushq_server
wrk_rps "publish, no subscribers, -c50" pushq 50 "http://127.0.0.1:$port/send_msg/" -s "$tmp/post.lua"
stop_pid "$server_pid"
if have_nchan; then
	start_nchan
	wrk_rps "publish, no subscribers, -c50" nchan 50 "http://127.0.0.1:$port/pub/room" -s "$tmp/nchan_pub.lua"
	stop_pid "$server_pid"
fi
if have_pushpin; then
	start_pushpin
	wrk_rps "publish, no subscribers, -c50" pushpin 50 "http://127.0.0.1:$port/send_msg" -s "$tmp/post.lua"
	stop_pushpin
fi

# 3. short polling cost
if [ "$mode" = full ]; then
	echo "3. GET /get_msg?timeout=0 (short polling)"
	start_pushq_server
	"$fanout" register "$port" 1 short >/dev/null
	wrk_rps "GET /get_msg?timeout=0, -c50" pushq 50 "http://127.0.0.1:$port/get_msg?name=short0&timeout=0"
	stop_pid "$server_pid"
fi

# 4. long-poll fan-out
echo "4. long-poll fan-out, one message at a time"
for n in $lp_list; do
	start_pushq_server
	fanout_run "long-poll fan-out N=$n" pushq lp "$port" "$n" "$messages" 0 "$server_pid"
	stop_pid "$server_pid"
	if have_civetweb; then
		start_civetweb $((n + 200))
		fanout_run "long-poll fan-out N=$n" civetweb lp "$port" "$n" "$messages" 0 "$server_pid"
		stop_pid "$server_pid"
	fi
done
if have_nchan; then
	for n in $nchan_lp_list; do
		start_nchan
		fanout_api=nchan fanout_run "long-poll fan-out N=$n" nchan lp "$port" "$n" "$messages" 0 "$server_pids"
		stop_pid "$server_pid"
	done
else note "nchan not installed (apt-get install nginx libnginx-mod-nchan): skipped"; fi
if have_pushpin; then
	for n in $pushpin_lp_list; do
		start_pushpin
		fanout_api=grip fanout_run "long-poll fan-out N=$n" pushpin lp "$port" "$n" "$pushpin_lp_messages" 0 "$server_pids"
		stop_pushpin
	done
else note "pushpin not installed (apt-get install pushpin): skipped"; fi
if have_django; then
	for n in $django_lp_list; do
		start_django
		fanout_run "long-poll fan-out N=$n" django lp "$port" "$n" 3 0 "$server_pid"
		stop_pid "$server_pid"
	done
fi

# 5. WebSocket broadcast
echo "5. WebSocket broadcast"
ws_peers="pushq"
have_civetweb && ws_peers="$ws_peers civetweb"
have_node_ws && ws_peers="$ws_peers node" || note "node-ws not installed (apt-get install node-ws): skipped"
have_nchan && ws_peers="$ws_peers nchan"
have_pushpin && ws_peers="$ws_peers pushpin"
# start_ws_peer SERVER N: starts it; sets $port, $server_pid, $measured (the
# PID list fanout measures) and $fanout_api
start_ws_peer() {
	fanout_api=""
	case $1 in
	pushq) start_pushq_server ;;
	civetweb) start_civetweb $(($2 + 200)) ;;   # a worker thread per socket
	node) start_node ;;
	nchan) start_nchan; fanout_api=nchan ;;
	pushpin) start_pushpin; fanout_api=grip ;;
	esac
	case $1 in
	nchan | pushpin) measured=$server_pids ;;
	*) measured=$server_pid ;;
	esac
}
stop_ws_peer() { if [ "$1" = pushpin ]; then stop_pushpin; else stop_pid "$server_pid"; fi; fanout_api=""; }
for n in $ws_list; do
	for server in $ws_peers; do
		start_ws_peer "$server" "$n"
		fanout_run "WebSocket broadcast N=$n" "$server" ws "$port" "$n" "$messages" 0 "$measured"
		at_rate=yes
		case $server in nchan | pushpin) [[ " $peers_at_rate " == *" $server "* ]] || at_rate=no ;; esac
		if [ "$n" = "$ws_rate_n" ] && [ $at_rate = yes ]; then
			stop_ws_peer "$server"
			start_ws_peer "$server" "$n"
			fanout_run "WebSocket broadcast N=$n at 50 msg/s" "$server" ws "$port" "$n" 250 50 "$measured"
		fi
		stop_ws_peer "$server"
	done
done

# 5a. Server-Sent Events: the same fan-out as a stream (messages by POST)
echo "5a. Server-Sent Events fan-out, one message at a time"
sse_peers="pushq"
have_nchan && sse_peers="$sse_peers nchan"
have_pushpin && sse_peers="$sse_peers pushpin"
for n in $sse_list; do
	for server in $sse_peers; do
		start_ws_peer "$server" "$n"
		fanout_run "SSE fan-out N=$n" "$server" sse "$port" "$n" "$messages" 0 "$measured"
		stop_ws_peer "$server"
	done
done

# 5b. what a sender waits for when its message goes to many WebSocket clients:
# the POST's own thread writes the frames (ws_session.c), so this is the cost.
echo "5b. POST /send_msg with $listen_n WebSocket clients listening"
start_pushq_server
"$fanout" listen "$port" "$listen_n" 60 >"$tmp/listen.out" 2>&1 &
listen_pid=$!
pids+=("$listen_pid")
for _ in $(seq 600); do grep -q ready "$tmp/listen.out" && break; sleep 0.1; done
cmd="wrk -t1 -c4 -d$duration --latency -s $tmp/post.lua http://127.0.0.1:$port/send_msg"
output=$($cmd 2>&1) || true
p99=$(echo "$output" | awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; print v }')
rps=$(echo "$output" | awk '/Requests\/sec/ {print $2}')
printf '  %-44s %-9s p99 %s ms, %s req/s (each to %s clients)\n' "POST /send_msg, $listen_n WS clients" pushq "${p99:-failed}" "${rps:-0}" "$listen_n"
record "POST /send_msg p99, $listen_n WebSocket clients, -c4" pushq "${p99:-0}" ms lower "$cmd (audience: $fanout listen $port $listen_n)"
record "POST /send_msg rate, $listen_n WebSocket clients, -c4" pushq "${rps:-0}" "req/s" higher "$cmd"
stop_pid "$listen_pid"
stop_pid "$server_pid"

# 5c. channels and direct messages: a publish costs its channel's members,
# not every client.  The queues are large so that every publish really goes
# into 10 queues (none is full: "receivers" is checked before and after).
echo "5c. channels and direct messages"
cat >"$tmp/chan.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "content=hello+from+wrk&name=wrk&channel=ten"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
cat >"$tmp/dm.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "content=hello+from+wrk&name=wrk&to=dm0"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
chan_opts="--max-clients 200000 --queue-size 10000000 --client-ttl 3600"
hz=$(getconf CLK_TCK)

# cpu_ticks PID: user + system clock ticks of a process so far
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# receivers_of BODY: "receivers" in pushq's answer to one POST /send_msg
receivers_of() {
	python3 - "$port" "$1" <<'PY'
import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(f"http://127.0.0.1:{sys.argv[1]}/send_msg", sys.argv[2].encode(), timeout=10) as r:
        print(json.load(r).get("receivers"))
except Exception as e:
    print(f"error:{type(e).__name__}")
PY
}

# wrk_measure LUA: wrk -c50 on $port/send_msg; sets m_rps, m_cpu_us (the
# server's CPU per request), m_errors and m_cmd
wrk_measure() {
	m_cmd="wrk -t2 -c50 -d$chan_s -s $1 http://127.0.0.1:$port/send_msg"
	local before after output requests
	before=$(cpu_ticks "$server_pid")
	output=$($m_cmd 2>&1) || true
	after=$(cpu_ticks "$server_pid")
	m_rps=$(echo "$output" | awk '/Requests\/sec/ {print $2}')
	requests=$(echo "$output" | awk '/ requests in / {print $1}')
	m_errors=$(echo "$output" | grep -E "Non-2xx|Socket errors" | tr -s ' ' | tr '\n' ';' || true)
	m_cpu_us=$(awk -v a="$before" -v b="$after" -v n="${requests:-0}" -v hz="$hz" \
		'BEGIN { printf "%.2f", (n > 0 ? (b - a) / hz * 1e6 / n : 0) }')
}

# best VAR VALUE higher|lower: keeps the better of $VAR and VALUE in VAR
best() {
	local old=${!1:-}
	if [ -z "$old" ] || awk -v a="$2" -v b="$old" -v w="$3" 'BEGIN { exit !(w == "higher" ? a > b : a < b) }'; then
		printf -v "$1" '%s' "$2"
	fi
}

# For each kind, two servers at once with the same options: one with the 10
# members (ten0..9 in ten) and dm0 only, one with 100,000 idle clients (in
# room) besides; short wrk runs alternate between them, round after round,
# so that both sides see the same noise of a shared machine.  A side's
# figure is its best round; the ratio of each round's pair is printed too.
for kind in chan dm; do
	if [ $kind = chan ]; then
		scenario="channel publish: POST /send_msg channel=ten (10 members), -c50"
		body="content=check&channel=ten" want=10
	else
		scenario="direct message: POST /send_msg to=dm0, -c50"
		body="content=check&to=dm0" want=1
	fi
	for others in 0 100000; do
		start_pushq_server $chan_opts
		printf -v "port_$others" '%s' "$port"
		printf -v "pid_$others" '%s' "$server_pid"
		reg="$fanout register $port 10 ten ten; $fanout register $port 1 dm"
		if [ "$others" -gt 0 ]; then
			"$fanout" register "$port" "$others" idle | sed 's/^/    /'
			reg="$fanout register $port $others idle; $reg"
		fi
		"$fanout" register "$port" 10 ten ten >/dev/null
		"$fanout" register "$port" 1 dm >/dev/null
		printf -v "reg_$others" '%s' "$reg"
		printf -v "check_$others" '%s' "$(receivers_of "$body")"
		unset "rps_$others" "cpu_$others"
	done
	pairs=""
	for round in $(seq "$chan_rounds"); do
		for others in $([ $((round % 2)) = 1 ] && echo 0 100000 || echo 100000 0); do
			port_var="port_$others" pid_var="pid_$others"
			port=${!port_var} server_pid=${!pid_var}
			wrk_measure "$tmp/$kind.lua"
			printf '  %-44s %-9s %10s req/s, %s us server CPU per request %s\n' \
				"$kind, $others other clients, round $round" pushq "${m_rps:-failed}" "$m_cpu_us" "$m_errors"
			[ -z "$m_errors" ] || note "$kind with $others other clients: wrk saw $m_errors"
			best "rps_$others" "${m_rps:-0}" higher
			best "cpu_$others" "$m_cpu_us" lower
			printf -v "this_$others" '%s' "${m_rps:-0}"
			printf -v "cmd_$others" '%s' "$build/pushq --max-conns 30000 $chan_opts; $m_cmd${m_errors:+ ($m_errors)}"
		done
		pairs="$pairs $(awk -v a="$this_0" -v b="$this_100000" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	done
	for others in 0 100000; do
		port_var="port_$others" pid_var="pid_$others" check_var="check_$others"
		port=${!port_var}
		after=$(receivers_of "$body")
		[ "${!check_var}" = "$want" ] && [ "$after" = "$want" ] ||
			note "$kind with $others other clients: receivers ${!check_var} before wrk, $after after (want $want)"
		stop_pid "${!pid_var}"
		side=$([ "$others" = 0 ] && echo pushq || echo "+100k others")
		rps_var="rps_$others" cpu_var="cpu_$others" cmd_var="cmd_$others" reg_var="reg_$others"
		how="${!cmd_var}; before it: ${!reg_var}; best of $chan_rounds rounds of -d$chan_s, alternating with the other side"
		record "$scenario" "$side" "${!rps_var}" "req/s" higher "$how"
		record "${scenario%, -c50} CPU per request" "$side" "${!cpu_var}" "us" lower "$how (server CPU from /proc/PID/stat over requests)"
	done
	# pushq = 0 other clients, the "peer" = 100,000 others: the ratio is how
	# many times faster a publish is without them (target: at most 1.2).
	verdict=$(echo "$pairs" | awk -v a="$rps_0" -v b="$rps_100000" -v c="$cpu_0" -v d="$cpu_100000" '{
		n = split($0, p, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (p[j] < p[i]) { t = p[i]; p[i] = p[j]; p[j] = t }
		med = n % 2 ? p[(n + 1) / 2] : (p[n / 2] + p[n / 2 + 1]) / 2
		r = b > 0 ? a / b : 0; q = c > 0 ? d / c : 0
		printf "0 other clients %.0f req/s, 100,000 others %.0f req/s (best of %d rounds each): ratio %.2f (target: at most 1.20, %s); ratio of each round:%s (median %.2f); server CPU per request %.2f us and %.2f us (ratio %.2f)",
			a, b, n, r, (r > 0 && r <= 1.2) ? "met" : "NOT met", $0, med, c, d, q }')
	echo "  $kind: $verdict"
	note "${scenario%%:*}: $verdict"
done

# Fan-out to one channel: 1,000 members (fan0.. in ch, connected) out of
# 10,000 clients (8,999 registered in other, one in ch.noise); before each
# message one other goes to ch.noise or to=fanoutnoise: no member may get it.
chan_n=1000
for m in $chan_modes; do
	label=$(case $m in lp) echo long-poll ;; ws) echo WebSocket ;; sse) echo SSE ;; esac)
	start_pushq_server
	"$fanout" register "$port" $((10 * chan_n - chan_n - 1)) other other | sed 's/^/    /'
	fanout_run "channel fan-out: $label, 1,000 of 10,000 clients" pushq "$m" "$port" "$chan_n" "$messages" 0 "$server_pid" ch
	stop_pid "$server_pid"
	# Beside it, the same 1,000 as the whole room (rows 4, 5, 5a), when measured.
	alone=$(case $m in lp) echo "long-poll fan-out N=$chan_n" ;; ws) echo "WebSocket broadcast N=$chan_n" ;; sse) echo "SSE fan-out N=$chan_n" ;; esac)
	for what in p99 "CPU per delivery"; do
		row=$(awk -F'\t' -v s="$alone $what" -v t="channel fan-out: $label, 1,000 of 10,000 clients $what" \
			'$1 == s && $2 == "pushq" { OFS = "\t"; $1 = t; $2 = "room alone"; $6 = $6 " (the row " s ")"; print }' \
			"$results")
		[ -z "$row" ] || echo "$row" >>"$results"
	done
done

# 6. echo round trips on one socket
echo "6. WebSocket echo"
start_pushq_server
fanout_run "WebSocket echo, one socket" pushq echo "$port" "$echo_s"
stop_pid "$server_pid"

# 7. the queue library against Python's queue.Queue
echo "7. queue library"
qb=$("$build/queue_bench" --python bench/queue_bench.py)
echo "$qb" | sed 's/^/    /'
echo "$qb" | awk -v cmd="$build/queue_bench --python bench/queue_bench.py" '
	/^1000 / { printf "queue 1P/1C bounded 1000\tpushq\t%s\titems/s\thigher\t%s\nqueue 1P/1C bounded 1000\tpython\t%s\titems/s\thigher\t%s\n", $2, cmd, $3, cmd }
	/^unbounded / { printf "queue 1P/1C unbounded\tpushq\t%s\titems/s\thigher\t%s\nqueue 1P/1C unbounded\tpython\t%s\titems/s\thigher\t%s\n", $2, cmd, $3, cmd }
	/pair:/ { printf "queue put+get pair, uncontended\tpushq\t%s\tns\tlower\t%s\n", $(NF-1), cmd }' >>"$results"

# 9. several nodes: two pushq nodes share the room through a real Redis
# (--redis), clients split between them, the sender on node A; in the same
# sitting as one node alone.  The "peer" of each row is the two-node run.
if have redis-server; then
	echo "9. two nodes through Redis (clients split over A and B, sender on A)"
	rport=$(free_port)
	mkdir -p "$tmp/redis"
	redis-server --port "$rport" --bind 127.0.0.1 --dir "$tmp/redis" --appendonly yes \
		--appendfsync everysec --save "" >"$tmp/redis.out" 2>&1 &
	redis_pid=$!
	pids+=("$redis_pid")
	wait_port "$rport"
	redis_url="redis://127.0.0.1:$rport"
	note "two-node rows: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1, appendonly yes, appendfsync everysec; the load tool and both nodes share the 2 cores"
	n=1000
	for mode in lp ws; do
		label=$([ $mode = lp ] && echo long-poll || echo WebSocket)
		start_pushq_server
		fanout_run "scale-out: $label N=$n" pushq "$mode" "$port" "$n" "$messages" 0
		stop_pid "$server_pid"
		key="bench:$mode:$RANDOM"           # a fresh stream for each run
		start_pushq_server --redis "$redis_url" --redis-key "$key"
		a_port=$port a_pid=$server_pid
		start_pushq_server --redis "$redis_url" --redis-key "$key"
		b_port=$port b_pid=$server_pid
		fanout_run "scale-out: $label N=$n" "2 nodes+redis" "$mode" "$a_port,$b_port" "$n" "$messages" 0
		stop_pid "$a_pid"
		stop_pid "$b_pid"
	done
	start_pushq_server
	wrk_rps "scale-out: POST /send_msg, -c50" pushq 50 "http://127.0.0.1:$port/send_msg" -s "$tmp/post.lua"
	stop_pid "$server_pid"
	start_pushq_server --redis "$redis_url" --redis-key "bench:post:$RANDOM"
	wrk_rps "scale-out: POST /send_msg, -c50" "2 nodes+redis" 50 "http://127.0.0.1:$port/send_msg" -s "$tmp/post.lua"
	stop_pid "$server_pid"
	stop_pid "$redis_pid"
else
	note "redis-server not installed (apt-get install redis-server): the two-node rows are skipped"
fi

# 8. the floors of the design.  A long-poll delivery costs its thread two
# sleeps: in the client's queue (bench/wakeup_floor.c: N threads on their own
# condition variable, woken by one) and in recv for the client's next request
# (bench/socket_floor.c: N threads each in recv on its own loopback socket,
# woken by one byte and answering).  Each is recorded beside the long-poll
# rows as a "peer", and so is their sum ("both floors": p99s and CPU added,
# as both sleeps of a round share the same cores): its ratio is how close
# pushq comes to the floor of its own model (< 1: above it).
echo "8. the floors of thread-per-connection (condvar wake-up, socket wake-up)"
for n in $lp_list; do
	cmd="$build/wakeup_floor $n $floor_rounds"
	result=$($cmd | tee /dev/stderr | grep '^RESULT') || continue
	eval "$(echo "$result" | sed 's/^RESULT //' | tr ' ' '\n' | sed 's/^/f_/')"
	record "long-poll fan-out N=$n p99" "condvar floor" "$f_p99" ms lower "$cmd (thread wake-up, no sockets)"
	record "long-poll fan-out N=$n CPU per delivery" "condvar floor" "$f_cpu_us" us lower "$cmd (CPU per wake-up)"
	scmd="$build/socket_floor $n $floor_rounds"
	result=$($scmd | tee /dev/stderr | grep '^RESULT') || continue
	eval "$(echo "$result" | sed 's/^RESULT //' | tr ' ' '\n' | sed 's/^/s_/')"
	record "long-poll fan-out N=$n p99" "socket floor" "$s_p99" ms lower "$scmd (recv wake-up and a one-byte answer, no HTTP)"
	record "long-poll fan-out N=$n CPU per delivery" "socket floor" "$s_cpu_us" us lower "$scmd (server threads' CPU per wake-up)"
	both_p99=$(awk -v a="$f_p99" -v b="$s_p99" 'BEGIN { printf "%.3f", a + b }')
	both_cpu=$(awk -v a="$f_cpu_us" -v b="$s_cpu_us" 'BEGIN { printf "%.2f", a + b }')
	record "long-poll fan-out N=$n p99" "both floors" "$both_p99" ms lower "$cmd + $scmd (p99s added)"
	record "long-poll fan-out N=$n CPU per delivery" "both floors" "$both_cpu" us lower "$cmd + $scmd (CPU added)"
	lp_p99=$(awk -F'\t' -v s="long-poll fan-out N=$n p99" '$1 == s && $2 == "pushq" {print $3}' "$results")
	lp_cpu=$(awk -F'\t' -v s="long-poll fan-out N=$n CPU per delivery" '$1 == s && $2 == "pushq" {print $3}' "$results")
	[ -n "$lp_p99" ] && [ -n "$lp_cpu" ] &&
		awk -v n="$n" -v a="$lp_p99" -v b="$both_p99" -v c="$lp_cpu" -v d="$both_cpu" 'BEGIN {
			printf "  N=%s: pushq long-poll p99 %.1f ms = %.2fx both floors (%.1f ms); CPU %.1f us = %.2fx both floors (%.1f us)\n", n, a, a / b, b, c, c / d, d }'
done

python3 bench/report.py "$out"
