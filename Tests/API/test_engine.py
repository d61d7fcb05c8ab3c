"""The execution engine through the webhook, against the simulator: US-03's scenarios and EC-01..EC-10."""
import os
import signal as signals
import time

import pytest
import requests

from conftest import BASE, sql
from trading import (SIM, clear_faults, make_trader, post_signal, signal, sim, sim_orders, sweep, sweep_command, sweep_until_settled, wait_for,
                     wait_settled, webhook_key_for_new_traders, writes_in_order)

# A trader's one execution once the engine tried it and found the exchange down (EC-01): its status.
ATTEMPTED_EC01 = "SELECT status FROM executions WHERE user_id = :'p1' AND error_message LIKE '%(EC-01)%'"


@pytest.fixture
def key(admin):
    # No exchange stays paused from an earlier run (e.g. the schema fuzzer's reconciliations get MEXC's 429 and
    # pause it for ~40 s).
    sql("DELETE FROM exchange_pauses")
    clear_faults()
    yield webhook_key_for_new_traders(admin, "engine tests")
    clear_faults()


def notifications(user_id):
    return [r[0] for r in sql("SELECT kind FROM notifications WHERE user_id = :'p1' ORDER BY id", user_id)]


# US-03 scenario 1
def test_buy_on_both_exchanges(api, key, make_user, admin):
    trader = make_trader(make_user, admin)
    r = post_signal(api, key, signal(confidence=0.85))
    assert r.json()["status"] == "queued" and r.json()["executions"] >= 2  # other tests' traders are eligible too
    rows = wait_settled(trader, 2)
    assert [(x[0], x[1]) for x in rows] == [("binance", "filled"), ("mexc", "filled")]
    for ex in ("binance", "mexc"):
        orders = sim_orders(ex, trader.keys[ex])
        assert len(orders) == 1 and orders[0]["type"] in ("LIMIT", "IMMEDIATE_OR_CANCEL")
    detail = trader.user.get(f"/v1/executions/{rows[0][4]}").json()
    assert [e["to_status"] for e in detail["events"]] == ["pending", "submitted", "filled"]
    # 2 % of 10,000 USDT at the IOC limit 50,500 → 0.00396 BTC; stop-loss and take-profit stored.
    assert detail["requested_quantity"] == "0.00396000"
    assert sql("SELECT stop_loss_price::text, take_profit_price::text FROM executions WHERE id = :'p1'", rows[0][4]) == [["49000.000000000000", "52500.000000000000"]]
    assert notifications(trader.user.id).count("execution_filled") == 2
    # SEC-06: each placed order is in the key audit log, written with the order's outcome.
    assert sql("""SELECT exchange, success::text, user_agent, key_fingerprint IS NOT NULL FROM credential_audit_log
                  WHERE user_id = :'p1' AND action = 'use_for_trade' ORDER BY exchange""", trader.user.id) == [
        ["binance", "true", "engine", "t"], ["mexc", "true", "engine", "t"]]


# US-03 scenario 3
def test_partial_failure_keeps_the_success_and_alerts(api, key, make_user, admin):
    trader = make_trader(make_user, admin)
    sim("binance", "/_sim/faults", {"kind": "unknown_error", "method": "POST", "path": "/api/v3/order", "code": -1234, "message": "weird", "count": 1})
    post_signal(api, key, signal())
    rows = wait_settled(trader, 2)
    assert [(x[0], x[1]) for x in rows] == [("binance", "failed"), ("mexc", "filled")]
    assert "partial_execution" in notifications(trader.user.id)
    assert len(sim_orders("mexc", trader.keys["mexc"])) == 1  # no rollback
    # EC-09: the operator is alerted too, and the unknown error is in the execution's record.
    assert "weird" in rows[0][2]
    assert sql("SELECT count(*) FROM notifications WHERE user_id IS NULL AND text LIKE :'p1'", f"%{rows[0][4]}%")[0][0] == "1"


# SEC-05 in the engine: the claim counts the call; over the user's budget nothing is sent and it waits a minute.
def test_call_budget_postpones_the_order(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("binance",))
    # This minute's and the next minute's budget full (10 calls), so the claim cannot straddle a minute boundary.
    sql("""INSERT INTO exchange_call_budget (user_id, window_start, calls)
           SELECT :'p1', date_trunc('minute', now()) + make_interval(mins => m), 10 FROM generate_series(0, 1) m
           ON CONFLICT (user_id, window_start) DO UPDATE SET calls = 10""", trader.user.id)
    post_signal(api, key, signal())
    deadline = time.time() + 15
    while time.time() < deadline and "budget" not in (trader.executions() or [["", "", ""]])[0][2]:
        time.sleep(0.1)
    rows = trader.executions()
    assert [(r[0], r[1]) for r in rows] == [("binance", "pending")] and "SEC-05" in rows[0][2], rows
    assert sim_orders("binance", trader.keys["binance"]) == []
    assert sql("SELECT sum(calls)::int FROM exchange_call_budget WHERE user_id = :'p1'", trader.user.id)[0][0] == "21"
    assert sql("SELECT next_attempt_at > now() + interval '1 second' FROM executions WHERE id = :'p1'", rows[0][4])[0][0] == "t"
    sql("UPDATE trading_configs SET is_enabled = false WHERE user_id = :'p1'", trader.user.id)  # a later sweep cancels it


def test_call_budget_counts_every_execution_of_a_claim(api, key, make_user, admin):
    """SEC-05 with two executions of one user claimed together (the engine claims several per statement): each is
    one call, so with room for one more call exactly one order is sent and the other waits."""
    trader = make_trader(make_user, admin)
    sql("""INSERT INTO exchange_call_budget (user_id, window_start, calls)
           SELECT :'p1', date_trunc('minute', now()) + make_interval(mins => m), 9 FROM generate_series(0, 1) m
           ON CONFLICT (user_id, window_start) DO UPDATE SET calls = 9""", trader.user.id)
    post_signal(api, key, signal())
    deadline = time.time() + 15
    while time.time() < deadline and sorted(r[1] for r in trader.executions()) != ["filled", "pending"]:
        time.sleep(0.1)
    rows = trader.executions()
    assert sorted((r[1], "SEC-05" in (r[2] or "")) for r in rows) == [("filled", False), ("pending", True)], rows
    assert sum(len(sim_orders(ex, trader.keys[ex])) for ex in ("binance", "mexc")) == 1
    assert sql("SELECT sum(calls)::int FROM exchange_call_budget WHERE user_id = :'p1'", trader.user.id)[0][0] == "20"
    sql("UPDATE trading_configs SET is_enabled = false WHERE user_id = :'p1'", trader.user.id)  # a later sweep cancels it
    forget_accounts("{" + trader.user.id + "}")


def test_ec01_exchange_down_then_back(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("binance",))
    sim("binance", "/_sim/faults", {"kind": "maintenance", "count": 100})
    post_signal(api, key, signal())
    # Tried once, found the exchange down: queued again, not failed.
    assert wait_for(ATTEMPTED_EC01, trader.user.id, expect=[["pending"]]) == [["pending"]]
    requests.delete(SIM["binance"] + "/_sim/faults", timeout=10)
    sql("UPDATE executions SET next_attempt_at = now() WHERE user_id = :'p1'", trader.user.id)
    sweep()
    assert wait_settled(trader, 1)[0][1] == "filled"


def test_ec02_insufficient_balance_skips_that_exchange(api, key, make_user, admin):
    trader = make_trader(make_user, admin, balances={"USDT": "3"})
    post_signal(api, key, signal())
    rows = wait_settled(trader, 2)
    assert {x[1] for x in rows} == {"rejected"} and all("Insufficient balance" in x[2] for x in rows)
    assert sim_orders("binance", trader.keys["binance"]) == []


def test_ec03_rate_limit_waits_and_retries(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("mexc",))
    sim("mexc", "/_sim/faults", {"kind": "rate_limit", "method": "POST", "path": "/api/v3/order", "count": 1})
    post_signal(api, key, signal())
    # Refused (429): back in the queue, and MEXC paused for Retry-After; both are made due rather than waited for.
    refused = "SELECT status FROM executions WHERE user_id = :'p1' AND error_message LIKE '%(EC-03)%'"
    assert wait_for(refused, trader.user.id, expect=[["pending"]]) == [["pending"]]
    sql("UPDATE exchange_pauses SET paused_until = now() WHERE exchange = 'mexc'")
    sql("UPDATE executions SET next_attempt_at = now() WHERE user_id = :'p1' AND status = 'pending'", trader.user.id)
    sweep()
    rows = wait_settled(trader, 1)
    assert rows[0][1] == "filled"
    # Refused before execution (429), back to pending, then sent again with the same id: one order.
    history = sql("SELECT string_agg(to_status || ':' || coalesce(reason, ''), '|' ORDER BY id) FROM execution_events WHERE execution_id = :'p1'", rows[0][4])[0][0]
    assert history.startswith("pending:") and "|submitted:" in history and "|pending:rate limited by the exchange (EC-03)|submitted:" in history
    assert history.endswith("|filled:filled")
    assert len(sim_orders("mexc", trader.keys["mexc"])) == 1


def queued_behind_an_outage(api, key, make_user, admin, exchanges=("binance", "mexc")):
    """Three traders on `exchanges` whose executions wait in the queue: the webhook's own workers found those
    exchanges down (EC-01). Returns the traders and their user ids as a PostgreSQL array literal."""
    traders = [make_trader(make_user, admin, exchanges=exchanges) for _ in range(3)]
    users = "{" + ",".join(t.user.id for t in traders) + "}"
    for ex in exchanges:
        sim(ex, "/_sim/faults", {"kind": "http503", "method": "GET", "path": "/api/v3/account", "count": 100})
    post_signal(api, key, signal())
    waiting = "SELECT count(*) FROM executions WHERE user_id = ANY(:'p1'::uuid[]) AND status = 'pending' AND error_message LIKE '%EC-01%'"
    assert wait_for(waiting, users, expect=[[str(3 * len(exchanges))]]) == [[str(3 * len(exchanges))]]
    clear_faults()
    sql("UPDATE executions SET next_attempt_at = now() WHERE user_id = ANY(:'p1'::uuid[])", users)
    return traders, users


def test_ec03_a_rate_limit_on_the_address_pauses_the_whole_exchange(api, key, make_user, admin):
    """Binance's request weight is counted per address: after one 429, any further request in the same window
    gets the address banned (418; the simulator does as Binance). One 429 must pause the exchange for every
    execution, not only the one that got it."""
    # The webhook's own workers find Binance down (EC-01): the three executions wait in the queue.
    traders, users = queued_behind_an_outage(api, key, make_user, admin, exchanges=("binance",))
    try:
        # Every request now goes over the address's weight limit; one worker works the queue.
        sim("binance", "/_sim/limits", {"request_weight_per_minute": 1, "fresh_window": True})
        sweep(workers=1)
        # Health reports the pause without calling Binance (any request in the window would be a ban).
        health = api.call("GET", "/v1/health").json()
        assert health["status"] == "degraded" and health["components"]["binance"] == "paused", health
        assert health["checks"]["binance"]["paused_until"] and health["components"]["mexc"] == "ok"
        metrics = requests.get(BASE + "/metrics", timeout=10).text
        assert 'signalbridge_exchange_paused_seconds{exchange="mexc"} 0' in metrics
        assert 'signalbridge_exchange_paused_seconds{exchange="binance"} 0' not in metrics
        sim("binance", "/_sim/limits", {"request_weight_per_minute": 6000})
        # Not banned: nothing called Binance after the first 429 (a 418 ban would outlive the window).
        assert requests.get(SIM["binance"] + "/api/v3/ping", timeout=10).status_code == 200
        pause = sql("SELECT paused_until > now(), reason FROM exchange_pauses WHERE exchange = 'binance'")
        assert pause == [["t", "rate limited (429)"]], pause
        rows = sql("SELECT status, error_message FROM executions WHERE user_id = ANY(:'p1'::uuid[]) ORDER BY error_message", users)
        assert [r[0] for r in rows] == ["pending"] * 3, rows
        assert sum("(EC-03)" in r[1] for r in rows) >= 1, rows  # the one refused, and any the worker held back
        assert all(len(sim_orders("binance", t.keys["binance"])) == 0 for t in traders)
        # The pause over, the queue goes out: one order each.
        sql("UPDATE exchange_pauses SET paused_until = now() WHERE exchange = 'binance'")
        for t in traders:
            rows = sweep_until_settled(t, 1)
            assert [x[1] for x in rows] == ["filled"], rows
            assert len(sim_orders("binance", t.keys["binance"])) == 1
    finally:
        sim("binance", "/_sim/limits", {"request_weight_per_minute": 6000, "fresh_window": True})
        sql("DELETE FROM exchange_pauses")
        forget_accounts(users)


def test_a_worker_places_every_order_before_it_records_how_they_ended(api, key, make_user, admin):
    """Placing comes first: a worker records outcomes (and asks MEXC, whose acknowledgment carries no fill, how
    each order ended) once it has nothing left to place, so a fan-out's last order reaches the exchange as early
    as the first ones allow. The write-ahead `submitted` row is written before each order leaves, as always."""
    traders, users = queued_behind_an_outage(api, key, make_user, admin)
    try:
        sweep(workers=1)
        # One worker: six write-aheads (each just before its order left), then six outcomes.
        assert writes_in_order(users) == ",".join(["submitted"] * 6 + ["filled"] * 6)
        for t in traders:
            assert [(x[0], x[1]) for x in t.executions()] == [("binance", "filled"), ("mexc", "filled")]
            assert all(len(sim_orders(ex, t.keys[ex])) == 1 for ex in ("binance", "mexc"))
            assert notifications(t.user.id).count("execution_filled") == 2
    finally:
        clear_faults()
        forget_accounts(users)


def test_outcomes_wait_at_most_about_five_seconds_for_the_placements(api, key, make_user, admin):
    """Placing first has a bound: once the first unrecorded order has waited 5 s (`Worker.recordWithin`), the
    worker records what it placed before it handles its next execution, even in the middle of a claimed batch."""
    traders, users = queued_behind_an_outage(api, key, make_user, admin)
    try:
        # Each order takes 2 s to be accepted; one worker claims all six at once. Before its 5th execution the
        # first order has waited ~6 s: the four placed are recorded then, the last two after their placements.
        for ex in ("binance", "mexc"):
            sim(ex, "/_sim/faults", {"kind": "latency", "method": "POST", "path": "/api/v3/order", "latency_ms": 2000, "count": 100})
        sweep(workers=1, ENGINE_CLAIM_BATCH=8)
        assert writes_in_order(users) == ",".join(["submitted"] * 4 + ["filled"] * 4 + ["submitted"] * 2 + ["filled"] * 2)
        for t in traders:
            assert all(len(sim_orders(ex, t.keys[ex])) == 1 for ex in ("binance", "mexc"))
    finally:
        clear_faults()
        forget_accounts(users)


def test_a_status_query_failing_after_the_acknowledgment_is_asked_again(api, key, make_user, admin):
    """The order exists once MEXC acknowledged it: a failing status query leaves it `unknown` (never "not sent"),
    and the next sweep learns its state from the exchange. No resend."""
    trader = make_trader(make_user, admin, exchanges=("mexc",))
    sim("mexc", "/_sim/faults", {"kind": "http503", "method": "GET", "path": "/api/v3/order", "count": 1})
    post_signal(api, key, signal())
    accepted = "SELECT status, error_message IS NULL FROM executions WHERE user_id = :'p1'"
    assert wait_for(accepted, trader.user.id, expect=[["unknown", "t"]]) == [["unknown", "t"]]
    rows = sweep_until_settled(trader, 1)
    assert [x[1] for x in rows] == ["filled"], rows
    history = sql("SELECT string_agg(to_status || ':' || coalesce(reason, ''), '|' ORDER BY id) FROM execution_events WHERE execution_id = :'p1'", rows[0][4])[0][0]
    assert "|submitted:" in history and "|unknown:accepted; awaiting final state|filled:" in history, history
    assert len(sim_orders("mexc", trader.keys["mexc"])) == 1
    forget_accounts("{" + trader.user.id + "}")


def test_ec03_binance_is_paused_before_its_weight_limit_not_after(api, key, make_user, admin):
    """Binance reports the address's request weight of the minute on every response. Past the engine's ceiling
    Binance is paused for everyone until the next minute, without waiting for a 429: the execution in hand still
    places its order, the others wait, and nothing is refused."""
    traders, users = queued_behind_an_outage(api, key, make_user, admin, exchanges=("binance",))
    try:
        sim("binance", "/_sim/limits", {"fresh_window": True})
        # A ceiling that the first execution's own reads (exchange rules 20, price, account 20) pass.
        sweep(workers=1, ENGINE_BINANCE_WEIGHT_CEILING=30)
        # Paused until just after the minute it was set in (not asserted against now(): the minute may be over).
        pause = sql("""SELECT paused_until > updated_at, paused_until - updated_at <= interval '61 seconds',
                              extract(second FROM paused_until) < 1.5, reason FROM exchange_pauses WHERE exchange = 'binance'""")
        assert len(pause) == 1 and pause[0][:3] == ["t", "t", "t"] and pause[0][3].startswith("request weight "), pause
        rows = sql("SELECT status, coalesce(error_message, '') FROM executions WHERE user_id = ANY(:'p1'::uuid[]) ORDER BY status", users)
        assert [r[0] for r in rows] == ["filled", "pending", "pending"], rows
        assert all("(EC-03)" in r[1] for r in rows[1:]), rows
        assert sum(len(sim_orders("binance", t.keys["binance"])) for t in traders) == 1
        # The minute over (made so here), the other two go out: one order each, never a refusal.
        sql("DELETE FROM exchange_pauses")
        for t in traders:
            assert [x[1] for x in sweep_until_settled(t, 1)] == ["filled"]
            assert len(sim_orders("binance", t.keys["binance"])) == 1
        assert not sql("SELECT 1 FROM executions WHERE user_id = ANY(:'p1'::uuid[]) AND error_message LIKE '%rate limited%'", users)
    finally:
        clear_faults()
        sql("DELETE FROM exchange_pauses")
        forget_accounts(users)


def test_ec04_revoked_key_marks_credentials_invalid(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("binance",))
    requests.delete(SIM["binance"] + f"/_sim/accounts/{trader.keys['binance']}", timeout=10)
    post_signal(api, key, signal())
    rows = wait_settled(trader, 1)
    assert rows[0][1] == "rejected" and "EC-04" in rows[0][2]
    assert trader.user.get("/v1/exchanges").json()[0]["status"] == "invalid"
    assert "credentials_invalid" in notifications(trader.user.id)
    body = signal()
    post_signal(api, key, body)
    assert sql("""SELECT k.reason FROM signal_skips k JOIN signals s ON s.id = k.signal_id
                  WHERE s.signal_id = :'p1' AND k.user_id = :'p2'""", body["signal_id"], trader.user.id) == [["credentials_invalid"]]


def test_ec05_never_fills_worse_than_the_slippage_limit(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("binance",))
    sim("binance", "/_sim/market", {"slippage_bps": "300"})  # the market would fill 3 % worse
    post_signal(api, key, signal())
    rows = wait_settled(trader, 1)
    assert rows[0][1] == "cancelled" and "slippage" in rows[0][2]
    orders = sim_orders("binance", trader.keys["binance"])
    assert len(orders) == 1 and orders[0]["executedQty"] == "0.00000000"


def test_ec07_trading_switched_off_before_sending(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("binance",))
    sim("binance", "/_sim/faults", {"kind": "maintenance", "count": 100})
    post_signal(api, key, signal())
    assert wait_for(ATTEMPTED_EC01, trader.user.id, expect=[["pending"]]) == [["pending"]]
    trader.user.send("POST", "/v1/trading/toggle", {"enabled": False})
    requests.delete(SIM["binance"] + "/_sim/faults", timeout=10)
    sql("UPDATE executions SET next_attempt_at = now() WHERE user_id = :'p1'", trader.user.id)
    sweep()
    rows = wait_settled(trader, 1)
    assert rows[0][1] == "cancelled" and "switched off" in rows[0][2]
    assert sim_orders("binance", trader.keys["binance"]) == []


def test_kill_switch_engaged_mid_way_cancels_what_was_not_sent(api, key, make_user, admin):
    """The engine reads the kill switch when it picks an execution up: one still waiting (here: the exchange is
    down) when the operator halts trading is cancelled, and nothing reaches the exchange."""
    trader = make_trader(make_user, admin, exchanges=("binance",))
    sim("binance", "/_sim/faults", {"kind": "maintenance", "count": 100})
    post_signal(api, key, signal())
    deadline = time.time() + 15
    waiting = "SELECT 1 FROM executions WHERE user_id = :'p1' AND status = 'pending' AND attempts >= 1 AND lease_owner IS NULL"
    while time.time() < deadline and not sql(waiting, trader.user.id):
        time.sleep(0.1)
    assert sql(waiting, trader.user.id), trader.executions()
    admin.send("PUT", "/v1/admin/kill-switch", {"engaged": True, "reason": "test: halt mid-way"})
    try:
        requests.delete(SIM["binance"] + "/_sim/faults", timeout=10)
        sql("UPDATE executions SET next_attempt_at = now() WHERE user_id = :'p1'", trader.user.id)
        sweep()
        rows = wait_settled(trader, 1)
        assert rows[0][1] == "cancelled" and "Kill switch engaged" in rows[0][2], rows
        assert sim_orders("binance", trader.keys["binance"]) == []
    finally:
        admin.send("PUT", "/v1/admin/kill-switch", {"engaged": False, "reason": "tests"})


def test_database_crash_mid_fan_out_loses_nothing_and_duplicates_nothing(api, key, make_user, admin):
    """PostgreSQL crashes (stopped without a shutdown checkpoint) while orders are in flight. Only the write-ahead
    into `submitted` waits for the WAL flush; claims, budgets and outcomes commit asynchronously and may be gone
    after the restart. The sweep must still end every execution filled, with exactly one order each."""
    import subprocess
    traders, users = queued_behind_an_outage(api, key, make_user, admin)
    # One worker claims all six; each order takes 2 s to be accepted. Its first four outcomes are recorded before
    # its fifth execution (the 5 s bound of place-first), so for ~2 s there are outcomes just recorded, an order
    # on its way and one not sent: the crash comes then.
    for ex in ("binance", "mexc"):
        sim(ex, "/_sim/faults", {"kind": "latency", "method": "POST", "path": "/api/v3/order", "latency_ms": 2000, "count": 100})
    command, env = sweep_command(1, ENGINE_CLAIM_BATCH=8)
    stack = os.environ["SIGNALBRIDGE_STACK"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        progress = """SELECT count(*) FILTER (WHERE status = 'submitted') > 0 AND count(*) FILTER (WHERE status = 'filled') > 0
                      FROM executions WHERE user_id = ANY(:'p1'::uuid[])"""
        assert wait_for(progress, users, expect=[["t"]], timeout=20) == [["t"]], \
            sql("SELECT status, count(*) FROM executions WHERE user_id = ANY(:'p1'::uuid[]) GROUP BY 1", users)
        subprocess.run([stack, "pg-crash"], check=True, capture_output=True, timeout=60)
    finally:
        worker.kill()  # a worker that dies with the database: its lease and its order in flight are left
        worker.wait(30)
    subprocess.run([stack, "pg-start"], check=True, capture_output=True, timeout=120)
    # Every function's connection died with the server: new processes for the rest of the suite.
    subprocess.run([stack, "functions-restart"], check=True, capture_output=True, timeout=180)
    clear_faults()
    make_left_work_due(users)
    for t in traders:
        rows = sweep_until_settled(t, 2, timeout=40)
        assert [(x[0], x[1]) for x in rows] == [("binance", "filled"), ("mexc", "filled")], rows
        for ex in ("binance", "mexc"):
            assert len(sim_orders(ex, t.keys[ex])) == 1, (ex, sim_orders(ex, t.keys[ex]))
    forget_accounts(users)


def slow_orders(latency_ms, traders):
    """Every order placement on both exchanges answers `latency_ms` late (orders stay in flight long enough to
    crash something under them); returns the traders' user ids as an array literal."""
    for ex in ("binance", "mexc"):
        sim(ex, "/_sim/faults", {"kind": "latency", "method": "POST", "path": "/api/v3/order", "latency_ms": latency_ms, "count": 100})
    return "{" + ",".join(t.user.id for t in traders) + "}"


def make_left_work_due(users):
    """What a crash left, made due as the scheduled sweep would find it later: a `submitted` row older than the
    longest a send can take (3 × timeout + 1) is rescued by asking the exchange; dead workers' leases released."""
    sql("""UPDATE executions SET next_attempt_at = now(), lease_expires_at = NULL,
                  updated_at = CASE WHEN status IN ('submitted', 'partial') THEN now() - interval '1 hour' ELSE updated_at END
           WHERE user_id = ANY(:'p1'::uuid[]) AND status NOT IN ('filled', 'cancelled', 'rejected', 'failed')""", users)


def forget_accounts(users):
    """Takes a test's accounts out of every later reconciliation: it paces its MEXC calls per 10 s window, so
    each extra account with recent trades can make the suite's later runs wait for the next window."""
    sql("DELETE FROM exchange_credentials WHERE user_id = ANY(:'p1'::uuid[])", users)


def test_ec08_lost_responses_end_with_exactly_one_order_each(api, key, make_user, admin):
    traders = [make_trader(make_user, admin) for _ in range(3)]
    for ex in ("binance", "mexc"):
        sim(ex, "/_sim/faults", {"kind": "drop_response", "method": "POST", "path": "/api/v3/order", "count": 100})
    post_signal(api, key, signal())
    for t in traders:
        rows = wait_settled(t, 2)
        assert [(x[0], x[1]) for x in rows] == [("binance", "filled"), ("mexc", "filled")], rows
        for ex in ("binance", "mexc"):
            orders = sim_orders(ex, t.keys[ex])
            assert len(orders) == 1 and orders[0]["clientOrderId"].startswith("sb")
        events = sql("SELECT string_agg(to_status, ',' ORDER BY id) FROM execution_events WHERE execution_id = :'p1'", rows[0][4])[0][0]
        assert events == "pending,submitted,unknown,filled"


def test_ec08_not_placed_is_resent_with_the_same_id_then_given_up(api, key, make_user, admin):
    # A 500 before execution: the outcome is unknown to us; the exchange says three times (past the grace)
    # that it has no such order, so the engine resends with the same client order id: one order in the end.
    trader = make_trader(make_user, admin, exchanges=("binance",))
    sim("binance", "/_sim/faults", {"kind": "http500", "method": "POST", "path": "/api/v3/order", "count": 1})
    post_signal(api, key, signal())
    rows = sweep_until_settled(trader, 1)
    assert rows[0][1] == "filled"
    orders = sim_orders("binance", trader.keys["binance"])
    assert len(orders) == 1 and orders[0]["clientOrderId"] == rows[0][3]
    history = sql("SELECT string_agg(to_status, ',' ORDER BY id) FROM execution_events WHERE execution_id = :'p1'", rows[0][4])[0][0]
    assert history == "pending,submitted,unknown,submitted,filled"
    # Every send fails: after 3 sends the execution is failed and the user told; nothing was placed.
    stubborn = make_trader(make_user, admin, exchanges=("mexc",))
    sim("mexc", "/_sim/faults", {"kind": "http500", "method": "POST", "path": "/api/v3/order", "count": 100})
    post_signal(api, key, signal())
    rows = sweep_until_settled(stubborn, 1, timeout=40)
    assert rows[0][1] == "failed" and "EC-08" in rows[0][2]
    assert sim_orders("mexc", stubborn.keys["mexc"]) == []
    assert sql("SELECT count(*) FROM execution_events WHERE execution_id = :'p1' AND to_status = 'submitted'", rows[0][4])[0][0] == "3"


def test_ec10_below_minimum_raised_or_skipped(api, key, make_user, admin):
    small = make_trader(make_user, admin, exchanges=("binance",), balances={"USDT": "200"})
    post_signal(api, key, signal())
    rows = wait_settled(small, 1)
    assert rows[0][1] == "rejected" and "minimum" in rows[0][2]
    bold = make_trader(make_user, admin, exchanges=("mexc",), balances={"USDT": "200"})
    bold.user.send("PATCH", "/v1/users/me", {"risk_profile": "aggressive"})
    post_signal(api, key, signal())
    rows = wait_settled(bold, 1)
    assert rows[0][1] == "filled"
    assert sql("SELECT requested_quantity::text FROM executions WHERE id = :'p1'", rows[0][4]) == [["0.00010000"]]


def test_killed_webhook_mid_fan_out_loses_nothing_and_duplicates_nothing(api, key, make_user, admin):
    traders = [make_trader(make_user, admin) for _ in range(4)]
    users = slow_orders(400, traders)
    post_signal(api, key, signal())
    # Kill once the first orders are on their way (written ahead as `submitted`, the exchange still answering).
    in_flight = "SELECT count(*) FILTER (WHERE status = 'submitted') > 0 FROM executions WHERE user_id = ANY(:'p1'::uuid[])"
    assert wait_for(in_flight, users, expect=[["t"]]) == [["t"]]
    kill_webhook()
    clear_faults()
    make_left_work_due(users)
    sweep()
    for t in traders:
        rows = wait_settled(t, 2)
        assert [(x[0], x[1]) for x in rows] == [("binance", "filled"), ("mexc", "filled")], rows
        for ex in ("binance", "mexc"):
            assert len(sim_orders(ex, t.keys[ex])) == 1
    forget_accounts(users)


def kill_webhook():
    """SIGKILL every webhook process, then bring them back for the rest of the suite (spawn-fcgi does not
    respawn; `up` starts what is missing)."""
    import subprocess
    for pid in [int(p) for p in open(os.environ["SIGNALBRIDGE_STATE_DIR"] + "/run/webhook.pid").read().split()]:
        os.kill(pid, signals.SIGKILL)
    subprocess.run([os.environ["SIGNALBRIDGE_STACK"], "up"], check=True, capture_output=True, timeout=120)


def app_sql(query, *args):
    """As the functions' role, which may see and end its own sessions (a crashed process's backend)."""
    return sql(query, *args, url_file="APP_DATABASE_URL_FILE")


def test_webhook_killed_after_its_answer_before_expanding_the_decision(api, key, make_user, admin):
    """The webhook's transaction stores the signal and its fan-out decision; the executions rows are written right
    after the answer. If the process dies in between, the decision waits in signal_fanouts and the sweep expands
    it: every eligible pair placed exactly once, nothing lost."""
    import subprocess
    traders = [make_trader(make_user, admin) for _ in range(2)]
    users = "{" + ",".join(t.user.id for t in traders) + "}"
    # Hold the executions table: the webhook can store the signal and its decision and answer, but its expansion
    # waits for this lock.
    locker = subprocess.Popen(["psql", open(os.environ["TEST_DATABASE_URL_FILE"]).read().strip(), "-X", "-q", "-At"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        locker.stdin.write("BEGIN; LOCK TABLE executions IN EXCLUSIVE MODE; SELECT 'locked';\n")
        assert locker.stdout.readline().strip() == "locked"
        body = signal()
        r = post_signal(api, key, body)
        assert r.status_code == 200 and r.json()["status"] == "queued" and r.json()["executions"] >= 4, r.text
        pairs = r.json()["executions"]
        # A replay meanwhile answers from the decision: same counts, nothing created.
        again = post_signal(api, key, body)
        assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["executions"] == pairs
        waiting = """SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM signal_fanouts%'"""
        deadline = time.time() + 15
        while time.time() < deadline and not app_sql(waiting):
            time.sleep(0.02)
        assert app_sql(waiting), "the webhook's expansion never waited on the lock"
        # The process dies; its database session ends with it (a crash: its open transaction rolls back).
        kill_webhook()
        app_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM signal_fanouts%'")
        locker.stdin.write("COMMIT;\n")
    finally:
        locker.stdin.close()
        locker.wait(timeout=30)
    signal_uuid = sql("SELECT id FROM signals WHERE signal_id = :'p1'", body["signal_id"])[0][0]
    assert sql("SELECT cardinality(user_ids) FROM signal_fanouts WHERE signal_id = :'p1'", signal_uuid) == [[str(pairs)]]
    assert sql("SELECT count(*) FROM executions WHERE signal_id = :'p1'", signal_uuid) == [["0"]]
    sweep()
    assert sql("SELECT count(*) FROM signal_fanouts WHERE signal_id = :'p1'", signal_uuid) == [["0"]]
    assert sql("SELECT count(*) FROM executions WHERE signal_id = :'p1'", signal_uuid) == [[str(pairs)]]
    for t in traders:
        rows = wait_settled(t, 2)
        assert [(x[0], x[1]) for x in rows] == [("binance", "filled"), ("mexc", "filled")], rows
        for ex in ("binance", "mexc"):
            assert len(sim_orders(ex, t.keys[ex])) == 1, (ex, sim_orders(ex, t.keys[ex]))
        first = sql("SELECT to_status, actor FROM execution_events WHERE execution_id = :'p1' ORDER BY id LIMIT 1", rows[0][4])
        assert first == [["pending", "engine"]]
    forget_accounts(users)


@pytest.mark.parametrize("table", ["execution_events", "reconciliation_runs"])
def test_history_tables_are_append_only_for_the_app(table):
    """The functions' role may add to the execution event log and the reconciliation runs, never rewrite them
    (migrations 004 and 010 revoke UPDATE, DELETE, TRUNCATE; the credential audit log: test_connect.py)."""
    for statement in (f"UPDATE {table} SET id = id WHERE false", f"DELETE FROM {table} WHERE false", f"TRUNCATE {table}"):
        with pytest.raises(AssertionError, match="permission denied"):
            app_sql(statement)
    assert app_sql(f"SELECT has_table_privilege('{table}', 'INSERT')") == [["t"]]
