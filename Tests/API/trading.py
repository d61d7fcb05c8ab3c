"""Shared set-up for the webhook and engine tests: a released kill switch, a webhook key, traders with
simulator accounts, signals, and waiting (bounded) for the webhook's after-response work to settle."""
import datetime
import json
import os
import secrets
import subprocess
import time
import uuid

import requests

from conftest import BASE, PLAINTEXT_SECRETS, sql

SIM = {"binance": os.environ.get("SIM_BINANCE_URL", "http://127.0.0.1:9101"),
       "mexc": os.environ.get("SIM_MEXC_URL", "http://127.0.0.1:9102")}
FINAL = {"filled", "cancelled", "rejected", "failed", "dead_letter"}


def webhook_key_for_new_traders(admin, name):
    """The kill switch released and everyone's trading switched off, so a test trades only for the traders it makes;
    returns a new webhook key named `name`."""
    admin.send("PUT", "/v1/admin/kill-switch", {"engaged": False, "reason": "tests"})
    sql("UPDATE trading_configs SET is_enabled = false")
    return admin.send("POST", "/v1/admin/webhook-keys", {"name": name}).json()["key"]


def signal_rows(signal_id):
    """How many stored signals have this signal_id (as text: "0" or "1")."""
    return sql("SELECT count(*) FROM signals WHERE signal_id = :'p1'", signal_id)[0][0]


def now_iso(offset=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signal(**overrides):
    body = {"signal_id": f"sig-{uuid.uuid4().hex[:16]}", "timestamp": now_iso(), "symbol": "BTC/USDT", "action": 2,
            "confidence": 0.85, "model_version": "v21", "source": "ml_model"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_signal(api, key, body, validate=True, headers=None):
    h = {"X-API-Key": key} if key else {}
    h.update(headers or {})
    return api.call("POST", "/v1/webhook/signal", json_body=body, headers=h, validate=validate)


def sim_account(exchange, balances):
    key, secret = "SBK" + secrets.token_hex(12), "SBS" + secrets.token_hex(16)
    PLAINTEXT_SECRETS.extend([key, secret])
    r = requests.post(SIM[exchange] + "/_sim/accounts", json={"api_key": key, "api_secret": secret, "balances": balances}, timeout=10)
    assert r.status_code == 200
    return key, secret


def sim_orders(exchange, key):
    return requests.get(SIM[exchange] + "/_sim/orders", params={"api_key": key}, timeout=10).json()


def sim(exchange, path, body):
    r = requests.post(SIM[exchange] + path, json=body, timeout=10)
    assert r.status_code == 200, r.text


def clear_faults():
    for url in SIM.values():
        requests.delete(url + "/_sim/faults", timeout=10)
        requests.post(url + "/_sim/market", json={"slippage_bps": "0", "liquidity": {}}, timeout=10)
        requests.post(url + "/_sim/prices", json={"BTCUSDT": "50000"}, timeout=10)


class Trader:
    def __init__(self, user, keys):
        self.user, self.keys = user, keys

    def executions(self):
        return sql("""SELECT e.exchange, e.status, coalesce(e.error_message, ''), e.client_order_id, e.id
                      FROM executions e WHERE e.user_id = :'p1' ORDER BY e.created_at, e.exchange""", self.user.id)


def make_trader(make_user, admin, exchanges=("binance", "mexc"), min_confidence=0.7, balances=None, tier="pro", enabled=True):
    u = make_user("trader")
    if tier != "free":
        admin.send("PATCH", f"/v1/admin/users/{u.id}", {"subscription_tier": tier})
    keys = {}
    for ex in exchanges:
        key, secret = sim_account(ex, balances or {"USDT": "10000", "BTC": "1"})
        r = u.send("POST", f"/v1/exchanges/{ex}/connect", {"api_key": key, "api_secret": secret})
        assert r.status_code == 201, r.text
        keys[ex] = key
    r = u.send("PUT", "/v1/trading/config", {"symbol": "BTC/USDT", "stop_loss_pct": 0.02, "take_profit_pct": 0.05,
                                             "min_confidence": min_confidence, "execute_on_exchanges": list(exchanges)})
    assert r.status_code == 200, r.text
    if enabled:
        u.send("POST", "/v1/trading/toggle", {"enabled": True})
    return Trader(u, keys)


def wait_settled(trader, count, timeout=15):
    """Waits (bounded) until the trader has `count` executions, all in a state the engine leaves alone."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = trader.executions()
        if len(rows) >= count and all(r[1] in FINAL for r in rows):
            return rows
        time.sleep(0.1)
    return trader.executions()


def wait_for(query, *args, expect, timeout=15):
    """Polls `query` (bounded) until it returns `expect`; returns what it returned last."""
    deadline = time.time() + timeout
    rows = sql(query, *args)
    while rows != expect and time.time() < deadline:
        time.sleep(0.05)
        rows = sql(query, *args)
    return rows


def sweep(workers=None, **extra):
    """`signalbridge engine sweep`, the scheduled job's entry point (`workers`: its --workers; `extra`: more
    environment, e.g. ENGINE_CLAIM_BATCH)."""
    command, env = sweep_command(workers, **extra)
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def sweep_command(workers=None, **extra):
    """The sweep's command line and environment (for `sweep`, or a test that runs it in the background)."""
    env = {k: os.environ[k] for k in ["PATH", "SIGNALBRIDGE_MASTER_KEYS_FILE", "TRADING_ENABLED"] if k in os.environ}
    env.update({"DATABASE_URL_FILE": os.environ["APP_DATABASE_URL_FILE"], "PATH": "/usr/bin:/bin",
                "EXCHANGE_TIMEOUT_SECONDS": os.environ.get("EXCHANGE_TIMEOUT_SECONDS", "10"),
                "ENGINE_STALE_SUBMITTED_SECONDS": os.environ.get("ENGINE_STALE_SUBMITTED_SECONDS", "30"),
                "ENGINE_UNKNOWN_GRACE_SECONDS": os.environ.get("ENGINE_UNKNOWN_GRACE_SECONDS", "15"),
                "LOG_LEVEL": "warning"})
    env.update({k: str(v) for k, v in extra.items()})
    flags = ["--workers", str(workers)] if workers else []
    return [os.environ["SIGNALBRIDGE_BIN_DIR"] + "/signalbridge", "engine", "sweep", *flags], env


def sweep_until_settled(trader, count, timeout=20):
    """Runs the sweep (each time making due what waits) until the trader's executions are all final."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = trader.executions()
        if len(rows) >= count and all(r[1] in FINAL for r in rows):
            return rows
        sql("UPDATE executions SET next_attempt_at = now() WHERE user_id = :'p1' AND status IN ('pending', 'unknown')", trader.user.id)
        sweep()
        time.sleep(0.3)
    return trader.executions()


TELEGRAM = os.environ.get("TELEGRAM_URL", "http://127.0.0.1:9103")
OPERATOR_CHAT = os.environ.get("TELEGRAM_OPERATOR_CHAT_ID", "100001")


def job(name, *args, check=True, **env):
    """Runs a scheduled function once (`stack.sh job <Name>`: the cron environment), with extra variables."""
    full = dict(os.environ)
    full.update({k: str(v) for k, v in env.items()})
    out = subprocess.run([os.environ["SIGNALBRIDGE_STACK"], "job", name, *args], capture_output=True, text=True, env=full, timeout=180)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"returncode": out.returncode, "stdout": out.stdout, "stderr": out.stderr}


def telegram_messages(chat_id=None):
    params = {"chat_id": chat_id} if chat_id is not None else {}
    return requests.get(TELEGRAM + "/_fake/messages", params=params, timeout=10).json()


def telegram_reset():
    requests.delete(TELEGRAM + "/_fake/messages", timeout=10)


def telegram_fault(**body):
    r = requests.post(TELEGRAM + "/_fake/faults", json=body, timeout=10)
    assert r.status_code == 200, r.text


def writes_in_order(users):
    """The write-aheads and fills of those users' executions (`users`: an array literal), in the order written."""
    return sql("""SELECT string_agg(v.to_status, ',' ORDER BY v.id) FROM execution_events v JOIN executions e ON e.id = v.execution_id
                  WHERE e.user_id = ANY(:'p1'::uuid[]) AND v.to_status IN ('submitted', 'filled')""", users)[0][0]
