-- wrk script of Benchmarks/signed-checks-wrk.sh: the registration check of one device, each request with its own
-- pre-signed nonce. The requests are formatted in init, before the clock starts, as wrk's SCRIPTING advises for fast
-- servers: wrk then spends its share of the two cores on sending, not on building requests. Each of wrk's two threads (-t2)
-- takes every other line, so no nonce is sent twice until the file wraps around.
local counter = 0
local uuid = "5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12"
function setup(thread) thread:set("offset", counter); counter = counter + 1 end
function init(args)
  reqs = {}
  local n = 0
  for line in io.lines(os.getenv("EMBER_WRK_REQUESTS") or "reqs.txt") do
    if n % 2 == offset then
      local nonce, ts, sig = line:match("(%S+) (%S+) (%S+)")
      reqs[#reqs + 1] = wrk.format("GET", "/devices/" .. uuid .. "/registration",
        {["X-Device-UUID"] = uuid, ["X-Device-Nonce"] = nonce, ["X-Device-Timestamp"] = ts, ["X-Device-Signature"] = sig})
    end
    n = n + 1
  end
  i = 0
end
request = function()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms  p99 %.2f ms  max %.2f ms  non2xx/3xx %d\n", latency:percentile(50)/1000, latency:percentile(99)/1000, latency.max/1000, summary.errors.status))
end
