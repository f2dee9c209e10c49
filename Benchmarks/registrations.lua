-- wrk: POST /devices/register, each request with its own key and a new device (lines "KEY UUID" of
-- EMBER_WRK_REQUESTS); the body is the FireFly registration body of the vector device's public key.
local reqs = {}
for line in io.lines(os.getenv("EMBER_WRK_REQUESTS") or "reqs.txt") do reqs[#reqs + 1] = line end
local publicKey = os.getenv("EMBER_WRK_PUBLIC_KEY")
local counter = 0
function setup(thread) thread:set("offset", counter); counter = counter + 1 end
function init(args) i = offset end
request = function()
  i = i + 2
  local key, uuid = reqs[(i % #reqs) + 1]:match("(%S+) (%S+)")
  local body = '{"uuid":"' .. uuid .. '","product_id":"FFC0806-2305","product_hex":"0x08062305","device_class":"CONTROLLER",'
    .. '"public_key":"' .. publicKey .. '","registering_application":"wrk","registering_version":"1","mcu":{"model":"ESP32"}}'
  local headers = {["X-Registration-Key"] = key, ["Content-Type"] = "application/json"}
  -- EMBER_WRK_MANY_ADDRESSES: each request from its own address behind a trusted proxy, as a fleet registers.
  if os.getenv("EMBER_WRK_MANY_ADDRESSES") then headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256) end
  return wrk.format("POST", "/devices/register", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms  p99 %.2f ms  max %.2f ms  non2xx/3xx %d\n", latency:percentile(50)/1000, latency:percentile(99)/1000, latency.max/1000, summary.errors.status))
end
