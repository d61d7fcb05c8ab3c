#!/usr/bin/env bash
# `make bench`: a fresh stack of its own (release build, .local/bench, ports 18080/55433/19101/19102/19103, so
# test data never skews the figures; no local cron runner, so no scheduled job runs during a measurement), the
# benchmarks in one go, then docs/benchmarks.md rewritten. Loopback only; every load run is bounded by DURATION
# seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export CONFIG=release DURATION=${DURATION:-10} SIGNALBRIDGE_STATE_DIR=$ROOT/.local/bench
export HTTP_PORT=18080 PG_PORT=55433 SIM_BINANCE_PORT=19101 SIM_MEXC_PORT=19102 TELEGRAM_PORT=19103 LOCAL_CRON=off
export FUNCTION_PROCESSES=${FUNCTION_PROCESSES:-8} TRADING_ENABLED=true LOG_LEVEL=warning
STACK=Tests/Stack/stack.sh
trap '$STACK down >/dev/null 2>&1 || true' EXIT
$STACK down >/dev/null 2>&1 || true
rm -rf "$SIGNALBRIDGE_STATE_DIR"
$STACK up >/dev/null
set -a && . "$SIGNALBRIDGE_STATE_DIR/stack.env" && set +a
OWNER_URL=$(cat "$TEST_DATABASE_URL_FILE")
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
value() { sed -n "s/.*$2=\([^ ]*\).*/\1/p" <<<"$1"; }

echo "[bench] simulator" >&2
sim=$(SIM_BINANCE_URL=$SIM_BINANCE_URL Tests/Bench/simulator.sh 2>/dev/null)

echo "[bench] pgbench single-row insert, 16 clients" >&2
psql "$OWNER_URL" -X -q -c "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, signal_id text UNIQUE, ts timestamptz, payload jsonb)"
cat >"$SIGNALBRIDGE_STATE_DIR/insert.sql" <<'SQL'
INSERT INTO bench_insert (signal_id, ts, payload) VALUES (md5(random()::text || clock_timestamp()::text), now(), '{"action":1,"confidence":0.8}');
SQL
pg=$("$PG_BIN/pgbench" -n -M prepared -c 16 -j 2 -T "$DURATION" -f "$SIGNALBRIDGE_STATE_DIR/insert.sql" "$OWNER_URL" 2>&1)
pg_tps=$(awk '/^tps = / {print $3; exit}' <<<"$pg")
pg_lat=$(awk '/latency average/ {print $4}' <<<"$pg")

echo "[bench] webhook (auth + validation + dedupe + durable insert, HOLD), 16 connections" >&2
key=$(env -i PATH=/usr/bin:/bin DATABASE_URL_FILE="$TEST_DATABASE_URL_FILE" "$SIGNALBRIDGE_BIN_DIR/signalbridge" webhook-key create --name bench |
  sed -n 's/^key: \([^ ]*\).*/\1/p')
ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
wh=$(wrk -t2 -c16 -d"${DURATION}s" -s Tests/Bench/webhook.lua "$SIGNALBRIDGE_BASE_URL" -- "$key" "$ts")
wh_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$wh")
wh_line=$(grep '^BENCH' <<<"$wh")

echo "[bench] fan-out: 1,000 users x 2 exchanges" >&2
fan=$(BENCH_WEBHOOK_KEY=$key .local/venv/bin/python Tests/Bench/fanout.py 1000)

echo "[bench] nginx static return 200, 16 connections" >&2
st=$(wrk -t2 -c16 -d"${DURATION}s" --latency "$SIGNALBRIDGE_BASE_URL/_bench/static")
st_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$st")
st_p99=$(awk '$1 == "99%" {print $2}' <<<"$st")

echo "[bench] cold start (exec to first response) and RSS per process" >&2
cold_activity=$(.local/venv/bin/python Tests/Bench/coldstart.py "$SIGNALBRIDGE_BIN_DIR/Activity" 20 /v1/signals)
cold_webhook=$(.local/venv/bin/python Tests/Bench/coldstart.py "$SIGNALBRIDGE_BIN_DIR/Webhook" 20 /v1/webhook/signal)
# Resident memory of every running process of each function, after the loads above (MiB, max over processes).
rss_rows=""
for f in "$SIGNALBRIDGE_STATE_DIR"/run/*.pid; do
  name=$(basename "$f" .pid)
  [ "$name" = nginx ] && continue
  max=0; n=0
  while read -r pid || [ -n "$pid" ]; do
    [ -n "$pid" ] || continue
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    n=$((n + 1)); [ "${kb:-0}" -gt "$max" ] && max=$kb
  done <"$f"
  rss_rows+="| $name | $n | $(awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }') |"$'\n'
done

ratio=$(awk -v a="$wh_rps" -v b="$pg_tps" 'BEGIN { printf "%.0f", 100 * a / b }')
static_ratio=$(awk -v a="$wh_rps" -v b="$st_rps" 'BEGIN { printf "%.0f", 100 * a / b }')
cat >docs/benchmarks.md <<MD
# Benchmarks

Written by \`make bench\` ($(date -u +%Y-%m-%dT%H:%M:%SZ)) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, release build,
$FUNCTION_PROCESSES processes per function, a fresh cluster. Load generator, nginx, functions, simulator and
PostgreSQL share the machine, so every figure is a whole-box limit (run-to-run noise ≈ ±15 %,
../shared/design/measured-limits.md).

## Webhook vs. PostgreSQL

| measure | value | target |
|---|---|---|
| pgbench, one-row insert, prepared, 16 clients | **$pg_tps TPS** (avg $pg_lat ms) | reference |
| webhook through nginx: key auth, validation, dedupe, durable insert (HOLD: no fan-out), 16 connections | **$wh_rps req/s** | ≥ 50 % of pgbench |
| ratio | **$ratio %** | ≥ 50 % |
| webhook latency p50 / p99 | $(value "$wh_line" p50_ms) ms / $(value "$wh_line" p99_ms) ms | p99 ≤ 10 ms |
| non-2xx | $(value "$wh_line" non2xx) | 0 |

Commands: \`pgbench -n -M prepared -c 16 -j 2 -T $DURATION -f insert.sql\`;
\`wrk -t2 -c16 -d${DURATION}s -s Tests/Bench/webhook.lua\` (a unique signal_id per request).

## References and the FastCGI hop

| measure | value |
|---|---|
| nginx alone, \`return 200\` (no FastCGI), 16 connections | **$st_rps req/s** (p99 $st_p99) |
| webhook as a share of nginx alone | $static_ratio % |

Command: \`wrk -t2 -c16 -d${DURATION}s --latency /_bench/static\` (a location of the local nginx only).

## Cold start and memory

| measure | value |
|---|---|
| Activity: exec → first complete response (CGI one-shot: config, logger, database connection, one query) | $(value "$cold_activity" cold_start_p50_ms) ms p50, $(value "$cold_activity" cold_start_max_ms) ms max (20 runs) |
| Webhook: exec → first response (config, vault keys, engine set-up, database connection) | $(value "$cold_webhook" cold_start_p50_ms) ms p50, $(value "$cold_webhook" cold_start_max_ms) ms max |

Command: \`Tests/Bench/coldstart.py <binary> 20 <path>\`.

Resident memory per process after the loads above (\`VmRSS\`, largest process of each function):

| process | processes | RSS MiB |
|---|---|---|
${rss_rows}
## One signal to 1,000 users × 2 exchanges

| measure | value | target |
|---|---|---|
| orders | $(value "$fan" orders) (filled: $(value "$fan" filled)) | 2,000 |
| webhook response (fan-out of 2,000 executions in one transaction) | **$(value "$fan" response_ms) ms** | < 20 ms |
| all orders acknowledged by the exchange (last execution final), from the request | **$(value "$fan" all_acknowledged_s) s** | ≤ 2 s |

Command: \`Tests/Bench/fanout.py 1000\` (users seeded by SQL with keys sealed in the vault's format; the
simulator's rate limits raised; \`ENGINE_WORKERS\`=8 in the webhook process that received the signal).

## Exchange simulator: signed order placement

| measure | value | target |
|---|---|---|
| orders/s (Binance dialect, HMAC-verified, through nginx) | **$(value "$sim" simulator_orders_per_s)** | ≥ 5,000 |
| latency p50 / p99 | $(value "$sim" p50_ms) ms / $(value "$sim" p99_ms) ms | |
| non-2xx | $(value "$sim" errors_status) | 0 |

Command: \`Tests/Bench/simulator.sh\` (wrk \`-t2 -c16\`, 20,000 pre-signed orders replayed).

## Notes and where the time goes

- **The webhook and fan-out targets are not met yet.** Under the webhook load the two cores are saturated:
  nginx ≈ 30 %, the 8 webhook processes ≈ 90 %, PostgreSQL backends ≈ 90 % (top); inside a webhook process
  perf shows ≈ 43 % kernel (socket I/O on the FastCGI and libpq sockets) and ≈ 28 % Swift runtime (JSON
  decoding into \`JSONValue\`, dictionaries). The best figure measured here for a bare Swift decode+insert
  behind nginx was ≈ 7,300 req/s (≈ 40 % of pgbench, ../shared/design/measured-limits.md), so 50 % needs the
  FastCGI hop itself to get cheaper, not only our code.
- What already moved the numbers: the webhook's work in one statement (7 round trips and 2 commits → 1 and 1):
  1,805 → ~2,700-3,000 req/s; JIT off on every connection (PostgreSQL compiled the fan-out for ~40 ms per
  request); engine transitions in one statement; real threads for the engine's workers (7.2 → 6.1 s);
  byte-level query/header decoding in the runtime (Foundation string bridging was ~30 % of a request).
- The fan-out statement now also reserves each eligible user's daily-cap slot (one guarded upsert per user in
  \`daily_trade_counts\`, which closes the concurrent-signal race on the FREE cap). Two runs after the change
  gave 118 ms and 74 ms for the 1,000-user response (70 ms before): within this box's noise, not a clear cost.
- The webhook's connection uses generic plans (\`plan_cache_mode=force_generic_plan\`) and the signal no longer
  takes a foreign-key lock on its webhook key (migration 012): p99 was 8.6–9.8 ms in the three measurements since
  (11.6–19 ms in the runs before); throughput did not move beyond the noise.
- The fan-out is CPU-bound, not latency-bound: \`ENGINE_WORKERS\` 8, 16 and 32 all gave 5.1 s for the 2,000 orders;
  during those 5 s the box is 95 % busy and perf puts PostgreSQL at about twice the webhook process's CPU
  (≈ 5 ms of CPU per execution in all: 7 statements and 2 signed exchange calls each).
- Next to try: decode the signal with a hand-written parser instead of JSONDecoder → JSONValue; fewer FK
  checks on the fan-out (the \`execution_events\` creation rows and their FK double the rows written); batch
  the engine's per-execution statements (budget, audit, transition) and keep one connection per user's
  executions; run the engine for a large fan-out in several processes (claiming is already safe for that).
MD
echo "$sim"; echo "pgbench_tps=$pg_tps webhook_rps=$wh_rps ratio=$ratio% static_rps=$st_rps $wh_line"; echo "$fan"
echo "$cold_activity"; echo "$cold_webhook"
