local reqs = {}
for line in io.lines(os.getenv("EMBER_WRK_REQUESTS") or "reqs.txt") do reqs[#reqs + 1] = line end
local counter = 0
local uuid = "5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12"
function setup(thread) thread:set("offset", counter); counter = counter + 1 end
function init(args) i = offset end
request = function()
  i = i + 2
  local line = reqs[(i % #reqs) + 1]
  local nonce, ts, sig = line:match("(%S+) (%S+) (%S+)")
  return wrk.format("GET", "/devices/" .. uuid .. "/registration",
    {["X-Device-UUID"] = uuid, ["X-Device-Nonce"] = nonce, ["X-Device-Timestamp"] = ts, ["X-Device-Signature"] = sig})
end
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms  p99 %.2f ms  max %.2f ms  non2xx/3xx %d\n", latency:percentile(50)/1000, latency:percentile(99)/1000, latency.max/1000, summary.errors.status))
end
