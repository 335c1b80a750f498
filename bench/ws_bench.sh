#!/usr/bin/env bash
# `make bench-ws`: WebSocket broadcast to K = 100 and 1000 chat clients
# (one message at a time for latency, then 16 in flight for throughput),
# and echo round trips on one connection.  The server's memory and threads
# are read from /proc before and after.
#
# usage: bench/ws_bench.sh [PUSHQ_BINARY] [WS_BENCH_BINARY]   (env: MESSAGES=200)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

pushq_bin=${1:-build/pushq}
ws_bench=${2:-build/ws_bench}
messages=${MESSAGES:-200}

for k in 100 1000; do
	start_pushq "$pushq_bin"
	echo "K=$k: server before: $(proc_usage "$pushq_pid")"
	echo "  \$ $ws_bench $port broadcast $k $messages 1"
	"$ws_bench" "$port" broadcast "$k" "$messages" 1
	echo "  \$ $ws_bench $port broadcast $k $messages 16"
	"$ws_bench" "$port" broadcast "$k" "$messages" 16
	echo "K=$k: server after:  $(proc_usage "$pushq_pid")"
	kill "$pushq_pid"
	wait "$pushq_pid" || true
done
start_pushq "$pushq_bin"
echo "  \$ $ws_bench $port echo 5"
"$ws_bench" "$port" echo 5
