-- wrk script: POST /v1/webhook/signal with a unique signal_id per request (HOLD, so only auth + validation
-- + dedupe + durable insert are measured). Args: webhook key, timestamp.
-- Each wrk thread has a Lua state of its own: the thread number in the prefix keeps their ids apart (without
-- it both threads drew the same unseeded math.random and sent the same ids, so about half of the requests
-- were idempotent replays — measured up to 2026-11-21).
local key, ts
local counter = 0
local prefix = ""
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

init = function(args)
  key, ts = args[1], args[2]
  prefix = string.format("b%d-%d-%d", thread_number, os.time(), math.random(1, 1e9))
end

request = function()
  counter = counter + 1
  local body = string.format('{"signal_id":"%s-%d","timestamp":"%s","symbol":"BTC/USDT","action":1,"confidence":0.8,"model_version":"bench"}',
    prefix, counter, ts)
  return wrk.format("POST", "/v1/webhook/signal", { ["X-API-Key"] = key, ["Content-Type"] = "application/json" }, body)
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d non2xx=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
