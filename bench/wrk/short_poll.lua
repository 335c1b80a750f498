-- short_poll.lua: short polling, GET /get_msg?timeout=0, over many names.
--   wrk -t2 -c50 -d10s -s bench/wrk/short_poll.lua http://127.0.0.1:8000
-- Each thread first registers its names (/ab_b1?name=wrk-T-I), then asks
-- for each name's next message without waiting.  Requests/sec is the
-- rate of "anything for me?" questions; most answers are
-- {"status":false} -- the waste the tutorial warns about.
local names, next_name, registered = {}, 0, 0
local per_thread = tonumber(os.getenv("NAMES") or "50")
local thread_id = 0

function setup(thread)
	thread:set("id", thread_id)
	thread_id = thread_id + 1
end

function init(args)
	for i = 0, per_thread - 1 do names[i] = "wrk-" .. id .. "-" .. i end
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
	return wrk.format("GET", "/get_msg?timeout=0&name=" .. name)
end
