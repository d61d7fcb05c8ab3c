"""HOLD signals that wait on the webhook's socket at the same moment are stored by one statement
(Functions/Webhook/HoldSignalsTogether.swift, Shared/Runtime/FunctionRuntime+Grouped.swift); every request of a
group is answered exactly as it would be alone.

How a group is made on purpose: a signal_id inserted by an open transaction of the test makes the webhook's insert of
that id wait for it (PostgreSQL's unique check). One such "blocker" per webhook process holds every process; the
requests sent next wait in the socket's accept queue (`ss` shows how many); when the last blocker's transaction
ends, its process is the only free one and takes everything waiting as one group."""
import hashlib
import hmac
import json
import os
import pathlib
import signal as signals
import subprocess
import threading
import time

import pytest
import requests

from conftest import BASE, env_file, sql
from trading import (clear_faults, make_trader, post_signal, signal, signal_rows, sim, sim_orders, wait_settled,
                     webhook_key_for_new_traders, writes_in_order)

def state():
    return pathlib.Path(os.environ["SIGNALBRIDGE_STATE_DIR"])


def webhook_pids():
    return sorted(int(p) for p in (state() / "run" / "webhook.pid").read_text().split())


def queued():
    """Connections waiting in the accept queue of the webhook's listening socket (fd 0 of its processes)."""
    inode = os.readlink(f"/proc/{webhook_pids()[0]}/fd/0").split("[")[1].rstrip("]")
    out = subprocess.run(["ss", "-xlH"], capture_output=True, text=True, timeout=10).stdout
    return sum(int(line.split()[2]) for line in out.splitlines() if len(line.split()) > 6 and line.split()[-3] == inode)


def alive(pid):
    try:
        return not open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return False


def waiting_on_transactions():
    """Sessions waiting for another transaction to end (pg_locks: visible to every role, unlike pg_stat_activity's
    wait events); here, the webhook's inserts of the held ids."""
    return int(sql("SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted")[0][0])


def until(condition, what, timeout=15):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Holder:
    """An open transaction (psql, owner) that inserted signal rows with the given ids and has not ended."""

    def __init__(self, ids):
        self.psql = subprocess.Popen(["psql", env_file("TEST_DATABASE_URL_FILE"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.psql.stdin.write("BEGIN;\n")
        for i in ids:
            self.psql.stdin.write(f"INSERT INTO signals (signal_id, timestamp, symbol, action, confidence) VALUES ('{i}', now(), 'BTC/USDT', 1, 0.5);\n")
        self.psql.stdin.write("SELECT 'held';\n")
        self.psql.stdin.flush()
        assert self.psql.stdout.readline().strip() == "held"

    def release(self):
        """Rolls back: the waiting inserts of those ids go ahead."""
        self.psql.communicate("ROLLBACK;\n", timeout=30)


class Sent:
    """One request sent from a thread of its own; `response` once answered."""

    def __init__(self, body=None, key=None, headers=None, raw=None):
        h = {"Content-Type": "application/json"}
        if key:
            h["X-API-Key"] = key
        h.update(headers or {})
        self.body, self.response, self.error = body, None, None
        data = raw if raw is not None else json.dumps(body)
        self.thread = threading.Thread(target=self.send, args=(data, h), daemon=True)
        self.thread.start()

    def send(self, data, headers):
        try:
            self.response = requests.post(BASE + "/v1/webhook/signal", data=data, headers=headers, timeout=60)
        except requests.RequestException as e:
            self.error = e

    def result(self):
        self.thread.join(60)
        assert self.error is None and self.response is not None, self.error
        return self.response


def nginx_workers():
    master = (state() / "run" / "nginx.pid").read_text().strip()
    out = subprocess.run(["pgrep", "-P", master], capture_output=True, text=True, timeout=10).stdout
    return set(out.split())


def without_kept_connections():
    """nginx keeps its connections to the webhook open between requests (routes.conf); a request it sends on one
    reaches that connection's process, not the accept queue. A reload replaces nginx's workers; once the old ones
    have exited, their kept connections are closed and every request opens a new connection."""
    old = nginx_workers()
    subprocess.run(["nginx", "-p", str(state() / "nginx") + "/", "-c", str(state() / "nginx" / "nginx.conf"), "-s", "reload"],
                   check=True, capture_output=True, timeout=30)
    until(lambda: not nginx_workers() & old and nginx_workers(), "nginx's old workers to exit")


def kept_connections():
    """The webhook processes' end of each open connection from nginx (`ss`: unix stream sockets whose local address
    is a webhook socket), by inode."""
    out = subprocess.run(["ss", "-xH", "state", "established"], capture_output=True, text=True, timeout=10).stdout
    return {line.split()[4] for line in out.splitlines() if len(line.split()) > 5 and "/webhook." in line.split()[3]}


class Blocked:
    """Every webhook process held by a blocker; then `send` queues requests one by one (each waits in the accept
    queue before the next is sent, so their order there is the order sent); `release_one` frees one process,
    which takes the whole queue as one group; `release_all` frees the others."""

    def __init__(self, key):
        self.key = key
        without_kept_connections()
        self.processes = len(webhook_pids())
        ids = [signal()["signal_id"] for _ in range(self.processes)]
        self.holders = [Holder(ids[:-1]), Holder(ids[-1:])]
        self.blockers = []
        for n, i in enumerate(ids, 1):
            self.blockers.append(Sent(signal(action=1, signal_id=i), key))
            until(lambda: waiting_on_transactions() == n, f"webhook process {n} held")
        self.queue = []
        assert queued() == 0

    def send(self, *args, **kw):
        self.queue.append(Sent(*args, **kw))
        until(lambda: queued() == len(self.queue), f"request {len(self.queue)} queued")
        return self.queue[-1]

    def release_one(self):
        self.holders[1].release()
        for s in self.queue:
            s.result()

    def release_all(self):
        for h in self.holders:
            if h.psql.returncode is None:
                h.release()
        for b in self.blockers:
            # The held ids were rolled back, so the blockers' own signals are stored: a plain acknowledgment.
            assert b.result().status_code == 200, b.response.text


def log_lines_since(offset, message):
    with open(state() / "log" / "webhook.log", "rb") as f:
        f.seek(offset)
        lines = [json.loads(line) for line in f.read().decode().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("msg") == message]


def log_size():
    return (state() / "log" / "webhook.log").stat().st_size


@pytest.fixture
def key(admin):
    return webhook_key_for_new_traders(admin, "groups")


def test_a_group_answers_each_request_as_it_would_alone(api, key, admin, make_user):
    trader = make_trader(make_user, admin, exchanges=("binance",))
    revoked = admin.send("POST", "/v1/admin/webhook-keys", {"name": "revoked"}).json()
    admin.send("DELETE", f"/v1/admin/webhook-keys/{revoked['id']}")
    signed = admin.send("POST", "/v1/admin/webhook-keys", {"name": "signed", "require_signature": True}).json()
    known = signal(action=1)
    assert post_signal(api, key, known).status_code == 200
    odd = signal(action=1, model_version='v"1\\x', features_snapshot={"note": "ü \"quoted\"\n", "rsi": 71.25, "tags": ["a"]})
    twin = signal(action=1)
    signed_body = json.dumps(signal(action=1))
    stamp = str(int(time.time()))
    signature = hmac.new(signed["signing_secret"].encode(), f"{stamp}.{signed_body}".encode(), hashlib.sha256).hexdigest()
    offset = log_size()

    blocked = Blocked(key)
    try:
        fresh = blocked.send(signal(action=1), key)
        special = blocked.send(odd, key)
        replay = blocked.send(known, key)
        conflict = blocked.send(dict(known, confidence=0.9), key)
        twin_first, twin_second = blocked.send(twin, key), blocked.send(twin, key)
        unknown = blocked.send(signal(action=1), "sbk_unknown")
        revoked_key = blocked.send(signal(action=1), revoked["key"])
        unsigned = blocked.send(signal(action=1), signed["key"])
        unlisted = blocked.send(signal(action=1, symbol="DOGE/USDT"), key)
        invalid = blocked.send(signal(action=1, confidence=2), key)
        buy = blocked.send(signal(action=2), key)
        signed_ok = blocked.send(raw=signed_body, key=signed["key"],
                                 headers={"X-SignalBridge-Timestamp": stamp, "X-SignalBridge-Signature": f"v1={signature}"})
        blocked.release_one()
    finally:
        blocked.release_all()

    # One group of every request that waited: its well-formed, unsigned HOLDs with a new id in the group (fresh,
    # special, replay, the first twin, unknown, revoked_key, unsigned, unlisted) went to the one statement, which
    # stored three; everything else was received alone.
    groups = log_lines_since(offset, "HOLD signals received together")
    assert [(g["signals"], g["stored"]) for g in groups] == [(8, 3)], groups
    assert set(groups[0]["signal_ids"]) == {fresh.body["signal_id"], odd["signal_id"], known["signal_id"], twin["signal_id"],
                                            unknown.body["signal_id"], revoked_key.body["signal_id"], unsigned.body["signal_id"],
                                            unlisted.body["signal_id"]}

    for sent in (fresh, special, twin_first):
        r = sent.result()
        assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers, r.text
        assert r.json()["signal_id"] == sent.body["signal_id"] and r.json()["status"] == "received"
        assert r.json()["rejection_reason"] == "HOLD: nothing to execute" and r.json()["executions"] == 0
        assert r.headers["X-Request-ID"] and signal_rows(sent.body["signal_id"]) == "1"
    row = sql("SELECT model_version, features_snapshot = :'p2'::jsonb FROM signals WHERE signal_id = :'p1'",
              odd["signal_id"], json.dumps(odd["features_snapshot"]))
    assert row == [[odd["model_version"], "t"]], row
    for sent in (replay, twin_second):
        r = sent.result()
        assert r.status_code == 200 and r.headers.get("Idempotent-Replayed") == "true", r.text
    assert replay.result().json()["received_at"] == post_signal(api, key, known).json()["received_at"]
    assert twin_second.result().json() == twin_first.result().json()
    assert conflict.result().status_code == 409 and conflict.result().json()["code"] == "REQ_4009"
    for sent in (unknown, revoked_key, unsigned):
        assert sent.result().status_code == 401 and sent.result().json()["code"] == "AUTH_1001", sent.result().text
        assert signal_rows(sent.body["signal_id"]) == "0"
    assert unlisted.result().status_code == 422 and unlisted.result().json()["details"]["fields"][0]["field"] == "symbol"
    assert invalid.result().status_code == 422 and signal_rows(invalid.body["signal_id"]) == "0"
    assert signed_ok.result().status_code == 200 and signal_rows(json.loads(signed_body)["signal_id"]) == "1"
    # The BUY in the group: acknowledged with the group, its order placed after every response was sent.
    assert buy.result().status_code == 200 and buy.result().json()["executions"] == 1
    assert len(wait_settled(trader, 1)) == 1


def test_signals_answered_together_place_their_orders_side_by_side(key, admin, make_user):
    """Two BUY signals in one group: both are answered, then their orders are placed at the same time (each
    signal's after-response work on a thread of its own), not one signal after the other."""
    traders = [make_trader(make_user, admin, exchanges=("binance",)) for _ in range(2)]
    users = "{" + ",".join(t.user.id for t in traders) + "}"
    # The simulator answers one request at a time: four orders of 0.5 s stay inside the tests' 3 s exchange timeout.
    sim("binance", "/_sim/faults", {"kind": "latency", "method": "POST", "path": "/api/v3/order", "latency_ms": 500, "count": 100})
    try:
        blocked = Blocked(key)
        try:
            buys = [blocked.send(signal(action=2), key) for _ in range(2)]
            blocked.release_one()
        finally:
            blocked.release_all()
        assert [b.result().json()["executions"] for b in buys] == [2, 2]
        for t in traders:
            assert [r[1] for r in wait_settled(t, 2)] == ["filled", "filled"]
    finally:
        clear_faults()
    # Side by side, each signal's first order leaves before the other's last fill is recorded;
    # one signal after the other, the second would start only after the first had ended.
    spans = sql("""SELECT min(v.id) FILTER (WHERE v.to_status = 'submitted'), max(v.id) FILTER (WHERE v.to_status = 'filled')
                   FROM execution_events v JOIN executions e ON e.id = v.execution_id
                   WHERE e.user_id = ANY(:'p1'::uuid[]) GROUP BY e.signal_id""", users)
    (first_a, last_a), (first_b, last_b) = [(int(a), int(b)) for a, b in spans]
    assert first_a < last_b and first_b < last_a, (spans, writes_in_order(users))
    for t in traders:
        assert len(sim_orders("binance", t.keys["binance"])) == 2


def test_a_signal_placing_orders_does_not_hold_up_the_next(key, admin, make_user):
    """A process places a signal's orders after its answer on a thread of its own and goes on serving: with every
    other webhook process held, the next signal is answered while the first one's orders are still in flight."""
    trader = make_trader(make_user, admin, exchanges=("binance",))
    sim("binance", "/_sim/faults", {"kind": "latency", "method": "POST", "path": "/api/v3/order", "latency_ms": 2000, "count": 100})
    held = [signal()["signal_id"] for _ in range(len(webhook_pids()) - 1)]
    holder = Holder(held)
    blockers = []
    try:
        # Every process but one held by a blocker; the free one gets the BUY, then the HOLD.
        for n, signal_id in enumerate(held, 1):
            blockers.append(Sent(signal(action=1, signal_id=signal_id), key))
            until(lambda: waiting_on_transactions() == n, f"webhook process {n} held")
        buy = Sent(signal(action=2), key)
        assert buy.result().status_code == 200 and buy.result().json()["executions"] == 1
        in_flight = "SELECT count(*) FROM executions WHERE user_id = :'p1' AND status = 'submitted'"
        until(lambda: sql(in_flight, trader.user.id) == [["1"]], "the BUY's order to leave")
        hold = Sent(signal(action=1), key)
        assert hold.result().status_code == 200
        # Answered while the order is still on its way (2 s): the process did not wait for it.
        assert sql(in_flight, trader.user.id) == [["1"]]
    finally:
        holder.release()
        clear_faults()
    for b in blockers:
        assert b.result().status_code == 200, b.response.text
    assert [r[1] for r in wait_settled(trader, 1)] == ["filled"]


def test_a_group_whose_statement_fails_is_received_one_by_one(key):
    """A trigger refuses one signal_id: the group's statement fails as a whole, and each of its requests is then
    received alone: the others are stored, the refused one gets the error contract."""
    sql("""CREATE FUNCTION test_refuse_signal() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
           CREATE TRIGGER test_refuse_signal BEFORE INSERT ON signals FOR EACH ROW
           WHEN (NEW.signal_id LIKE 'refused-%') EXECUTE FUNCTION test_refuse_signal()""")
    offset = log_size()
    try:
        blocked = Blocked(key)
        try:
            first = blocked.send(signal(action=1), key)
            refused = blocked.send(signal(action=1, signal_id=f"refused-{time.time_ns()}"), key)
            last = blocked.send(signal(action=1), key)
            blocked.release_one()
        finally:
            blocked.release_all()
    finally:
        sql("DROP TRIGGER test_refuse_signal ON signals; DROP FUNCTION test_refuse_signal()")
    assert [line["signals"] for line in log_lines_since(offset, "HOLD group not stored together; each signal is received alone")] == [3]
    for sent in (first, last):
        assert sent.result().status_code == 200 and signal_rows(sent.body["signal_id"]) == "1", sent.result().text
    r = refused.result()
    assert r.status_code >= 500 and set(r.json()) >= {"code", "message", "request_id"}, r.text
    assert signal_rows(refused.body["signal_id"]) == "0"


def test_a_stopped_process_first_answers_what_waits_on_its_socket(key):
    """SIGTERM while requests wait in the accept queue: the process finishes its group, serves what still waits,
    then exits (the runtime reads SIGTERM between groups). The stack then gets a new generation (deploy)."""
    before = webhook_pids()
    blocked = Blocked(key)
    try:
        waiting = [blocked.send(signal(action=1), key) for _ in range(3)]
        for pid in before:
            os.kill(pid, signals.SIGTERM)
        blocked.release_one()
    finally:
        blocked.release_all()
    for sent in waiting:
        assert sent.result().status_code == 200 and signal_rows(sent.body["signal_id"]) == "1", sent.result().text
    until(lambda: not any(alive(p) for p in before), "the stopped processes to exit")
    out = subprocess.run([os.environ["SIGNALBRIDGE_STACK"], "deploy", "Webhook", "--binary",
                          os.environ["SIGNALBRIDGE_BIN_DIR"] + "/Webhook"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert len(webhook_pids()) == len(before) and not set(webhook_pids()) & set(before)
    assert requests.post(BASE + "/v1/webhook/signal", json=signal(action=1), headers={"X-API-Key": key}, timeout=10).status_code == 200


def test_nginx_keeps_its_connections_to_the_webhook_open(key):
    """A connection per signal cost nginx and the webhook a connect, an accept and two closes (~10 % of the
    signals a second): nginx keeps them open (routes.conf: fastcgi_keep_conn) and the webhook serves a kept
    connection's next request like a new connection's."""
    without_kept_connections()
    assert kept_connections() == set()
    sent = [signal(action=1) for _ in range(11)]
    def post(body):
        return requests.post(BASE + "/v1/webhook/signal", json=body, headers={"X-API-Key": key}, timeout=10)

    assert post(sent[0]).status_code == 200
    first = kept_connections()
    assert len(first) == 1, first
    for body in sent[1:]:
        assert post(body).status_code == 200
    assert kept_connections() == first, "one kept connection serves one request after another"
    assert all(signal_rows(body["signal_id"]) == "1" for body in sent)


def test_deploying_the_webhook_while_signals_stream_loses_none(key):
    """Signals sent without pause on kept connections while the webhook is deployed: the old processes close
    their kept connections as they stop; nginx sends a request it had just put on one again, on a new connection
    (routes.conf: fastcgi_next_upstream). Every signal is answered 200 and stored once."""
    results, lock, stop = [], threading.Lock(), threading.Event()

    def stream():
        while not stop.is_set():
            body = signal(action=1)
            try:
                status = requests.post(BASE + "/v1/webhook/signal", json=body, headers={"X-API-Key": key}, timeout=30).status_code
            except requests.RequestException as e:
                status = repr(e)
            with lock:
                results.append((body["signal_id"], status))

    before = webhook_pids()
    threads = [threading.Thread(target=stream, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        until(lambda: len(results) >= 50 and kept_connections(), "signals streaming on kept connections")
        out = subprocess.run([os.environ["SIGNALBRIDGE_STACK"], "deploy", "Webhook", "--binary",
                              os.environ["SIGNALBRIDGE_BIN_DIR"] + "/Webhook"], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        deployed = len(results)
        until(lambda: len(results) >= deployed + 50, "signals after the deploy")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not set(webhook_pids()) & set(before)
    failed = [r for r in results if r[1] != 200]
    assert not failed, f"{len(failed)} of {len(results)} failed: {failed[:5]}"
    ids = [r[0] for r in results]
    stored = sql("SELECT count(*), count(DISTINCT signal_id) FROM signals WHERE signal_id = ANY(:'p1'::text[])", "{" + ",".join(ids) + "}")
    assert [int(stored[0][0]), int(stored[0][1])] == [len(ids), len(ids)]
