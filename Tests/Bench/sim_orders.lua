-- wrk script: replays pre-signed MARKET orders (Tests/Bench/simulator.sh makes them) against the simulator.
-- Each thread loads the file; line 1 is the API key, then one signed "path?query" per line.
local key = nil
local paths = {}
local i = 0

init = function(args)
  for line in io.lines(args[1]) do
    if key == nil then key = line else paths[#paths + 1] = line end
  end
end

request = function()
  i = i % #paths + 1
  return wrk.format("POST", paths[i], { ["X-MBX-APIKEY"] = key, ["Content-Length"] = "0" })
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d errors_status=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
