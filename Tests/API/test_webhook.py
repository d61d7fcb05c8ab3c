"""POST /v1/webhook/signal: key authentication, the TradingSignal contract, idempotency (EC-06), HOLD,
recorded skip reasons (US-03 scenario 2), the kill switch and the daily caps (RN-U01)."""
import pytest

from conftest import sql
from trading import make_trader, now_iso, post_signal, signal, signal_rows, wait_settled, webhook_key_for_new_traders


@pytest.fixture
def key(admin):
    return webhook_key_for_new_traders(admin, "tests")


def test_key_authentication(api, admin, key):
    body = signal(action=1)
    assert post_signal(api, None, body).status_code == 401
    assert post_signal(api, "sbk_wrong", body).json()["code"] == "AUTH_1001"
    revoked = admin.send("POST", "/v1/admin/webhook-keys", {"name": "revoked"}).json()
    admin.send("DELETE", f"/v1/admin/webhook-keys/{revoked['id']}")
    assert post_signal(api, revoked["key"], body).status_code == 401
    assert signal_rows(body["signal_id"]) == "0"
    ok = post_signal(api, key, body)
    assert ok.status_code == 200 and ok.json()["status"] == "received" and ok.json()["rejection_reason"] == "HOLD: nothing to execute"
    assert sql("SELECT last_used_at IS NOT NULL FROM webhook_keys WHERE key_prefix = :'p1'", key[:12])[0][0] == "t"


def test_an_unauthenticated_caller_learns_nothing_about_the_contract(api, key):
    # An invalid body (or no JSON at all) without a valid key is a 401, never a 422 naming fields.
    for headers in (None, {"X-API-Key": "sbk_wrong"}):
        r = api.call("POST", "/v1/webhook/signal", json_body={"action": "BUY", "extra": 1}, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "AUTH_1001" and "fields" not in (r.json().get("details") or {}), r.text
    r = api.call("POST", "/v1/webhook/signal", data="{", headers={"X-API-Key": "sbk_wrong", "Content-Type": "application/json"})
    assert r.status_code == 401, r.text
    # The same body with the key: the contract's answer.
    assert api.call("POST", "/v1/webhook/signal", json_body={"action": "BUY", "extra": 1}, headers={"X-API-Key": key}).status_code == 422


def test_contract_is_validated_exactly(api, key):
    cases = [({"symbol": "btc/usdt"}, "symbol"), ({"symbol": "BTCUSDT"}, "symbol"), ({"action": 3}, "action"),
             ({"action": "BUY"}, "action"), ({"confidence": 1.2}, "confidence"), ({"confidence": "high"}, "confidence"),
             ({"timestamp": "yesterday"}, "timestamp"), ({"signal_id": "has space"}, "signal_id"), ({"signal_id": "x" * 51}, "signal_id"),
             ({"model_version": None}, "model_version"), ({"source": "twitter"}, "source"), ({"features_snapshot": [1, 2]}, "features_snapshot"),
             ({"extra": True}, "extra"), ({"timestamp": now_iso(-3600)}, "timestamp"), ({"timestamp": now_iso(3600)}, "timestamp"),
             ({"symbol": "DOGE/USDT"}, "symbol")]
    for change, field in cases:
        body = signal(**change)
        r = post_signal(api, key, body)
        assert r.status_code == 422, (change, r.text)
        assert field in [f["field"] for f in r.json()["details"]["fields"]], (change, r.json())
        assert signal_rows(body["signal_id"]) == "0"
    stale = post_signal(api, key, signal(timestamp=now_iso(-3600))).json()["details"]["fields"][0]["error"]
    assert "old" in stale
    assert post_signal(api, key, signal()).status_code == 200  # the same values, valid
    assert api.call("POST", "/v1/webhook/signal", data="{", headers={"X-API-Key": key, "Content-Type": "application/json"}).status_code == 400


def test_ambiguous_json_is_refused_and_stores_nothing(api, key):
    """A body with a repeated member (two actions: which one?) or a trailing comma is not JSON we act on."""
    import json
    base = json.dumps(signal(action=1))
    for text, signal_id in [(base[:-1] + ', "action": 2}', json.loads(base)["signal_id"]),
                            (base[:-1] + ",}", json.loads(base)["signal_id"])]:
        r = api.call("POST", "/v1/webhook/signal", data=text, headers={"X-API-Key": key, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "REQ_4000", r.text
        assert signal_rows(signal_id) == "0"


def test_same_signal_id_is_acknowledged_once(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("binance",))
    body = signal()
    first = post_signal(api, key, body)
    assert first.status_code == 200 and first.json()["executions"] >= 1
    again = post_signal(api, key, body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert signal_rows(body["signal_id"]) == "1"
    assert len(wait_settled(trader, 1)) == 1
    conflict = post_signal(api, key, dict(body, confidence=0.9))
    assert conflict.status_code == 409 and conflict.json()["code"] == "REQ_4009"


def test_last_used_time_is_kept_at_most_a_minute_stale(api, key):
    """Written by a statement of its own at most once a minute; a replay (which stores nothing) counts as a use."""
    def last_used():
        return sql("SELECT extract(epoch FROM now() - last_used_at)::int FROM webhook_keys WHERE key_prefix = :'p1'", key[:12])[0][0]
    body = signal(action=1)
    assert post_signal(api, key, body).status_code == 200
    assert int(last_used()) <= 5
    sql("UPDATE webhook_keys SET last_used_at = now() - interval '10 minutes' WHERE key_prefix = :'p1'", key[:12])
    assert post_signal(api, key, body).headers["Idempotent-Replayed"] == "true"
    assert int(last_used()) <= 5
    sql("UPDATE webhook_keys SET last_used_at = now() - interval '30 seconds' WHERE key_prefix = :'p1'", key[:12])
    assert post_signal(api, key, signal(action=1)).status_code == 200
    assert 30 <= int(last_used()) <= 35  # fresh enough: not rewritten


def test_hold_stores_the_signal_and_orders_nothing(api, key, make_user, admin):
    trader = make_trader(make_user, admin)
    body = signal(action=1)
    r = post_signal(api, key, body)
    assert r.json()["executions"] == 0 and signal_rows(body["signal_id"]) == "1"
    assert trader.executions() == []
    # EC-06: the same signal again gets the original acknowledgment, reason included.
    again = post_signal(api, key, body)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == r.json(), (again.json(), r.json())


# US-03 scenario 2
def test_below_confidence_is_skipped_with_the_reason(api, key, make_user, admin):
    trader = make_trader(make_user, admin, min_confidence=0.8)
    body = signal(confidence=0.65)
    post_signal(api, key, body)
    assert trader.executions() == []
    skips = sql("""SELECT k.reason, k.message FROM signal_skips k JOIN signals s ON s.id = k.signal_id
                   WHERE s.signal_id = :'p1' AND k.user_id = :'p2'""", body["signal_id"], trader.user.id)
    assert {tuple(s) for s in skips} == {("below_confidence", "Signal skipped: below confidence threshold")}


def test_every_ineligible_user_gets_a_reason(api, key, make_user, admin):
    disabled = make_trader(make_user, admin, enabled=False)
    not_connected = make_trader(make_user, admin, exchanges=("binance",))
    not_connected.user.send("PUT", "/v1/trading/config", {"symbol": "BTC/USDT", "stop_loss_pct": 0.02, "take_profit_pct": 0.05,
                                                          "min_confidence": 0.5, "execute_on_exchanges": ["binance", "mexc"]})
    body = signal()
    post_signal(api, key, body)
    reasons = dict(((r[0], r[1]), r[2]) for r in sql("""SELECT k.user_id::text, coalesce(k.exchange, ''), k.reason FROM signal_skips k
                        JOIN signals s ON s.id = k.signal_id WHERE s.signal_id = :'p1'""", body["signal_id"]))
    assert reasons[(disabled.user.id, "binance")] == "trading_disabled"
    assert reasons[(not_connected.user.id, "mexc")] == "exchange_not_connected"
    assert (not_connected.user.id, "binance") not in reasons  # that one is an execution
    assert [r[0] for r in wait_settled(not_connected, 1)] == ["binance"]


def test_kill_switch_skips_everyone(api, key, make_user, admin):
    trader = make_trader(make_user, admin)
    admin.send("PUT", "/v1/admin/kill-switch", {"engaged": True})
    try:
        body = signal()
        r = post_signal(api, key, body)
        assert r.json()["executions"] == 0 and r.json()["rejection_reason"] == "Trading is halted (kill switch)"
        assert trader.executions() == []
        again = post_signal(api, key, body)
        assert again.headers["Idempotent-Replayed"] == "true" and again.json() == r.json(), (again.json(), r.json())
        assert sql("""SELECT DISTINCT k.reason FROM signal_skips k JOIN signals s ON s.id = k.signal_id WHERE s.signal_id = :'p1'""",
                   body["signal_id"]) == [["kill_switch"]]
    finally:
        admin.send("PUT", "/v1/admin/kill-switch", {"engaged": False})


def test_free_tier_daily_cap(api, key, make_user, admin):
    trader = make_trader(make_user, admin, exchanges=("binance",), tier="free")
    trader.user.send("PATCH", "/v1/users/me", {"max_daily_trades": 50})
    for _ in range(5):
        post_signal(api, key, signal())
    body = signal()
    post_signal(api, key, body)
    assert len(wait_settled(trader, 5)) == 5
    assert sql("""SELECT k.reason FROM signal_skips k JOIN signals s ON s.id = k.signal_id
                  WHERE s.signal_id = :'p1' AND k.user_id = :'p2'""", body["signal_id"], trader.user.id) == [["daily_cap"]]


def test_signed_keys_refuse_unsigned_forged_and_stale_requests(api, admin):
    import hashlib
    import hmac
    import json
    import time
    admin.send("PUT", "/v1/admin/kill-switch", {"engaged": False})
    created = admin.send("POST", "/v1/admin/webhook-keys", {"name": "signed", "require_signature": True}).json()
    key, secret = created["key"], created["signing_secret"]
    assert created["require_signature"] is True and secret.startswith("sbs_")
    assert [k["require_signature"] for k in admin.get("/v1/admin/webhook-keys").json() if k["id"] == created["id"]] == [True]
    # The secret is stored sealed, never in clear.
    assert sql("SELECT count(*) FROM webhook_keys WHERE position(convert_to(:'p1', 'UTF8') in coalesce(signing_secret_blob, '')) > 0", secret)[0][0] == "0"

    def send(body, ts=None, secret_used=secret, tamper=False):
        raw = json.dumps(body)
        stamp = str(int(time.time()) if ts is None else ts)
        sig = hmac.new(secret_used.encode(), f"{stamp}.{raw}".encode(), hashlib.sha256).hexdigest()
        if tamper:
            raw = raw.replace('"confidence": 0.85', '"confidence": 0.95')
        return api.call("POST", "/v1/webhook/signal", data=raw, headers={
            "X-API-Key": key, "Content-Type": "application/json",
            "X-SignalBridge-Timestamp": stamp, "X-SignalBridge-Signature": f"v1={sig}"})

    unsigned = signal(action=1)
    assert post_signal(api, key, unsigned).status_code == 401
    assert send(signal(action=1), secret_used="sbs_wrong").status_code == 401
    assert send(signal(action=1), tamper=True).status_code == 401
    assert send(signal(action=1), ts=int(time.time()) - 3600).status_code == 401
    ok = signal(action=1)
    assert send(ok).status_code == 200
    for b in [unsigned]:
        assert sql("SELECT count(*) FROM signals WHERE signal_id = :'p1'", b["signal_id"])[0][0] == "0"
    # A replay of the same signed request inside the window creates nothing new (EC-06).
    again = send(ok)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
