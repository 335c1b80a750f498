# bench/lib.sh - shared by the benchmark scripts (source it).
# Starts processes on 127.0.0.1 only and stops exactly those, by PID, on exit.

tmp=$(mktemp -d)
pids=()

cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Starts pushq (binary $1, more options after it) on a free port; sets
# $port and $pushq_pid.  Not meant for a subshell: $pids must keep the PID.
start_pushq() {
	local bin=$1
	shift
	# Emptied here, not only by the child's redirection: the wait below must
	# never read the line of a server started before (whose port is closed).
	: >"$tmp/pushq.out"
	"$bin" --port 0 --www www --log warn "$@" >"$tmp/pushq.out" 2>"$tmp/pushq.err" &
	pushq_pid=$!
	pids+=("$pushq_pid")
	for _ in $(seq 100); do
		grep -q listening "$tmp/pushq.out" 2>/dev/null && break
		sleep 0.05
	done
	port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/pushq.out")
	[ -n "$port" ] || { echo "pushq did not start: $(cat "$tmp/pushq.err")" >&2; exit 1; }
}

# Resident memory and threads of a process, from /proc/PID/status.
proc_usage() {
	awk '/^VmRSS/ {rss=$2} /^Threads/ {t=$2} END {printf "RSS %d KiB, %d threads", rss, t}' \
		"/proc/$1/status"
}
