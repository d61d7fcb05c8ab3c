-- wrk script for the floor (Tests/Bench/floor.c): the same POST body size as the webhook benchmark.
request = function()
  return wrk.format("POST", "/_bench/floor", { ["Content-Type"] = "application/json" },
    '{"signal_id":"floor","timestamp":"2026-01-01T00:00:00.000Z","symbol":"BTC/USDT","action":1,"confidence":0.8,"model_version":"bench"}')
end
