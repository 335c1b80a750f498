-- send_msg.lua: POST /send_msg, the tutorial's send, as fast as wrk can.
--   wrk -t2 -c50 -d10s -s bench/wrk/send_msg.lua http://127.0.0.1:8000/send_msg
-- Requests/sec is messages published per second; each one goes into the
-- queue of every client in "room" (a full queue counts a drop, never waits).
-- CHANNEL=name or TO=name in the environment publish there instead.
local body = "content=hello+from+wrk&name=wrk"
if os.getenv("CHANNEL") then body = body .. "&channel=" .. os.getenv("CHANNEL") end
if os.getenv("TO") then body = body .. "&to=" .. os.getenv("TO") end
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
