"""Benchmark: one BUY signal fanned out to N users × 2 exchanges on the simulator. Seeds the users directly
(SQL, keys sealed in the vault's format), then measures the webhook's response time, the time until the
exchange has accepted every order (the simulator's order times) and the time until every execution is final in
our rows. Prints one BENCH line."""
import base64
import datetime
import json
import os
import secrets
import subprocess
import sys
import time
import uuid

import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
BASE, OWNER = os.environ["SIGNALBRIDGE_BASE_URL"], open(os.environ["TEST_DATABASE_URL_FILE"]).read().strip()
SIM = {"binance": os.environ["SIM_BINANCE_URL"], "mexc": os.environ["SIM_MEXC_URL"]}
kid, key_b64 = open(os.environ["SIGNALBRIDGE_MASTER_KEYS_FILE"]).read().strip().split(",")[-1].split(":", 1)
master = base64.b64decode(key_b64)


def seal(user_id, exchange, api_key, api_secret):
    """Shared/Vault/Vault.swift's format: 0x01 | len(id) | id | nonce | ciphertext+tag, AAD bound to user/exchange."""
    header = bytes([1, len(kid)]) + kid.encode()
    nonce = secrets.token_bytes(12)
    aad = header + f"|signalbridge-exchange-credentials|{user_id}|{exchange}".encode()
    plaintext = json.dumps({"k": api_key, "s": api_secret}, separators=(",", ":"), sort_keys=True).encode()
    return header + nonce + AESGCM(master).encrypt(nonce, plaintext, aad)


def psql(sql_text):
    out = subprocess.run(["psql", OWNER, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], input=sql_text, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


# Seeds N users unless a previous run did (then the signal goes to those: repeat runs on one stack).
seeded = int(psql("SELECT count(*) FROM users WHERE email LIKE 'bench-%'"))
assert seeded in (0, N), f"{seeded} bench users on this stack, expected 0 or {N}"
users = [str(uuid.uuid4()) for _ in range(N if seeded == 0 else 0)]
rows_users, rows_cfg, rows_cred = [], [], []
http = requests.Session()
for ex in SIM:
    http.post(SIM[ex] + "/_sim/limits", json={"request_weight_per_minute": 10**9, "orders_per_10s": 10**9})
for u in users:
    rows_users.append(f"('{u}','bench-{u}@example.com','pro','aggressive',100,0.01)")
    rows_cfg.append(f"('{u}','BTC/USDT',true,0.02,0.05,0.5,'[\"binance\",\"mexc\"]')")
    for ex in SIM:
        k, s = "BK" + secrets.token_hex(10), "BS" + secrets.token_hex(16)
        http.post(SIM[ex] + "/_sim/accounts", json={"api_key": k, "api_secret": s, "balances": {"USDT": "100000"}})
        rows_cred.append(f"('{u}','{ex}','\\x{seal(u, ex, k, s).hex()}','{'0' * 64}','{kid}','[\"read\",\"spot\"]')")
if users:
    psql("BEGIN;"
         f"INSERT INTO users (id, email, subscription_tier, risk_profile, max_daily_trades, max_position_size_pct) VALUES {','.join(rows_users)};"
         f"INSERT INTO trading_configs (user_id, symbol, is_enabled, stop_loss_pct, take_profit_pct, min_confidence, execute_on_exchanges) VALUES {','.join(rows_cfg)};"
         f"INSERT INTO exchange_credentials (user_id, exchange, encrypted_blob, key_fingerprint, key_id, permissions) VALUES {','.join(rows_cred)};"
         "UPDATE system_settings SET value = '{\"engaged\": false}' WHERE key = 'kill_switch'; COMMIT;")
    # Statistics as a running service has them (autovacuum analyzes tables that grew; a bulk load just now left
    # the planner guessing: the first fan-out's plan then cost ~10 ms more).
    psql("ANALYZE users; ANALYZE trading_configs; ANALYZE exchange_credentials; ANALYZE daily_trade_counts")

# One psql session for the polling: a new psql process (and a new authenticated connection) every 50 ms took
# ~15 % of the box's CPU during the measurement, and its backends more (perf, 2026-11-21).
poller = subprocess.Popen(["psql", OWNER, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True, bufsize=1)


def poll(sql_text):
    poller.stdin.write(sql_text + ";\n")
    poller.stdin.flush()
    return poller.stdout.readline().strip()


poll("SELECT 1")
webhook_key = os.environ["BENCH_WEBHOOK_KEY"]
ts = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
# A long-running service's state: every webhook process connected, its statements prepared. A BUY for a symbol
# that is not listed runs the receiving statement and stores nothing (422).
for i in range(48):
    warm = {"signal_id": f"warm-{uuid.uuid4().hex[:12]}", "timestamp": ts, "symbol": "NOPE/USDT", "action": 2, "confidence": 0.9,
            "model_version": "bench"}
    assert requests.post(BASE + "/v1/webhook/signal", json=warm, headers={"X-API-Key": webhook_key}, timeout=30).status_code == 422
body = {"signal_id": f"fan-{uuid.uuid4().hex[:12]}", "timestamp": ts, "symbol": "BTC/USDT", "action": 2, "confidence": 0.9, "model_version": "bench"}
# BENCH_AT_SIGNAL: a command started just before the signal is sent (e.g. a profiler for the fan-out alone).
profiler = subprocess.Popen(os.environ["BENCH_AT_SIGNAL"], shell=True) if os.environ.get("BENCH_AT_SIGNAL") else None
start = time.time()
r = requests.post(BASE + "/v1/webhook/signal", json=body, headers={"X-API-Key": webhook_key}, timeout=30)
response_ms = (time.time() - start) * 1000
assert r.status_code == 200 and r.json()["executions"] == 2 * N, r.text
done_at = None
deadline = start + 120
while time.time() < deadline:
    # The finish time comes from the rows (max updated_at), so the polling interval only bounds the wait.
    # Executions not yet written (the decision is expanded right after the answer) count as not done.
    pending = int(poll(f"SELECT {2 * N} - count(*) + count(*) FILTER (WHERE e.status NOT IN ('filled','cancelled','rejected','failed')) "
                       f"FROM executions e JOIN signals s ON s.id = e.signal_id WHERE s.signal_id = '{body['signal_id']}'"))
    if pending == 0:
        done_at = time.time()
        break
    time.sleep(0.1)
poller.stdin.close()
poller.wait()
filled = psql(f"SELECT count(*) FROM executions e JOIN signals s ON s.id = e.signal_id WHERE s.signal_id = '{body['signal_id']}' AND e.status = 'filled'")
last = psql(f"SELECT extract(epoch FROM max(e.updated_at)) FROM executions e JOIN signals s ON s.id = e.signal_id WHERE s.signal_id = '{body['signal_id']}'")
all_done_s = float(last) - start if done_at else float("nan")
if profiler:
    profiler.wait()
# The exchange's side: when it accepted each order (the simulator's order time, ms). The last of them is when
# every order had been acknowledged; the rows above are final a little later (recording the outcome, and for
# MEXC, whose acknowledgment carries no fill, the order's status query).
accepted = [o["time"] / 1000 for ex in SIM for o in http.get(SIM[ex] + "/_sim/orders", timeout=60).json() if o["time"] / 1000 >= start]
acked_s = max(accepted) - start if len(accepted) == 2 * N else float("nan")
print(f"BENCH users={N} orders={2 * N} filled={filled} response_ms={response_ms:.1f} all_acknowledged_s={acked_s:.2f} all_final_s={all_done_s:.2f}")
