-- long_poll.lua: long polling held by wrk's connections: each request is a
-- GET /get_msg that blocks its server thread in the client's queue (the
-- design card's heart) until a message or TIMEOUT seconds (default 10).
--   wrk -t2 -c200 -d30s --timeout 15s -s bench/wrk/long_poll.lua http://127.0.0.1:8000
--   # meanwhile, from another shell, publish 20 messages a second:
--   for i in $(seq 600); do curl -s -d content=tick http://127.0.0.1:8000/send_msg >/dev/null; sleep 0.05; done
-- Each connection polls a name of its own (registered by its first
-- request).  With nothing published, Requests/sec is about c / TIMEOUT
-- (every poll waits its full time); each message published answers every
-- waiting poll at once, so the rate climbs with the publish rate while the
-- latency shows how long a poll waited.  Give wrk a --timeout above
-- TIMEOUT, or it counts the waiting polls as timeouts.
local timeout = os.getenv("TIMEOUT") or "10"
local per_thread = tonumber(os.getenv("NAMES") or "100")
local names, next_name, registered = {}, 0, 0
local thread_id = 0

function setup(thread)
	thread:set("id", thread_id)
	thread_id = thread_id + 1
end

function init(args)
	for i = 0, per_thread - 1 do names[i] = "lp-" .. id .. "-" .. i end
end

function request()
	local name = names[next_name]
	next_name = (next_name + 1) % per_thread
	-- Every name is registered twice over: wrk calls request() once before
	-- it starts, for a request it never sends.
	if registered < 2 * per_thread then
		registered = registered + 1
		return wrk.format("GET", "/ab_b1?name=" .. name)
	end
	return wrk.format("GET", "/get_msg?timeout=" .. timeout .. "&name=" .. name)
end
