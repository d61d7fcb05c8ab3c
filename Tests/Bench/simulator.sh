#!/usr/bin/env bash
# Benchmark: signed order placement on the exchange simulator (Binance dialect), through nginx, with wrk.
# Needs the stack up (make up). Prints one line: orders/s, p50/p99, non-2xx count. Bounded: DURATION seconds.
set -euo pipefail
URL=${SIM_BINANCE_URL:-http://127.0.0.1:9101}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
key="bench$(openssl rand -hex 8)"
secret="$(openssl rand -hex 16)"
post() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$URL$1" >/dev/null; }
post /_sim/reset '{}'
post /_sim/limits '{"request_weight_per_minute": 1000000000, "orders_per_10s": 1000000000}'
post /_sim/accounts "{\"api_key\":\"$key\",\"api_secret\":\"$secret\",\"balances\":{\"USDT\":\"1000000000000\"}}"
# 20,000 distinct signed orders, valid for the whole run (recvWindow 60 s); replayed in a loop.
python3 - "$key" "$secret" >"$work/orders.txt" <<'PY'
import hashlib, hmac, sys, time
key, secret = sys.argv[1], sys.argv[2].encode()
print(key)
now = int(time.time() * 1000)
for i in range(20000):
    q = f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.0001&newOrderRespType=ACK&recvWindow=60000&timestamp={now + i % 500}"
    print("/api/v3/order?" + q + "&signature=" + hmac.new(secret, q.encode(), hashlib.sha256).hexdigest())
PY
out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s Tests/Bench/sim_orders.lua "$URL" -- "$work/orders.txt")
echo "$out" >&2
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
line=$(grep '^BENCH' <<<"$out")
orders=$(curl -s "$URL/_sim/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["orders"])')
post /_sim/reset '{}'
echo "simulator_orders_per_s=$rps $line orders_recorded=$orders connections=$CONNECTIONS duration_s=$DURATION"
