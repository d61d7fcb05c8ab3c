"""Exchange connection through nginx against the simulator: US-01's three scenarios, the other refusals,
reconnect, validate/balance, EC-04 (a key revoked later), SEC-05 (per-user call budget), SEC-06 (audit)."""
import os
import secrets

import requests

from conftest import PLAINTEXT_SECRETS, sql

SIM = {"binance": os.environ.get("SIM_BINANCE_URL", "http://127.0.0.1:9101"),
       "mexc": os.environ.get("SIM_MEXC_URL", "http://127.0.0.1:9102")}


def sim_key(exchange, can_trade=True, can_withdraw=False, ip_restrict=False, balances=None):
    """An account on the simulator; its key and secret are registered as plaintext that must never leak."""
    key, secret = "SBK" + secrets.token_hex(12), "SBS" + secrets.token_hex(16)
    PLAINTEXT_SECRETS.extend([key, secret])
    r = requests.post(SIM[exchange] + "/_sim/accounts", json={
        "api_key": key, "api_secret": secret, "can_trade": can_trade, "can_withdraw": can_withdraw,
        "ip_restrict": ip_restrict, "balances": balances or {"USDT": "1000", "BTC": "0.5"}}, timeout=10)
    assert r.status_code == 200, r.text
    return key, secret


def stored(user, exchange):
    return sql("SELECT key_fingerprint, encode(encrypted_blob, 'hex'), is_valid FROM exchange_credentials WHERE user_id = :'p1' AND exchange = :'p2'",
               user.id, exchange)


def audit(user):
    return sql("SELECT exchange, action, success FROM credential_audit_log WHERE user_id = :'p1' ORDER BY created_at, id", user.id)


# US-01 scenario 1
def test_connect_mexc_with_spot_permission(make_user):
    u = make_user()
    key, secret = sim_key("mexc")
    r = u.send("POST", "/v1/exchanges/mexc/connect", {"api_key": key, "api_secret": secret})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["message"] == "MEXC Connected" and body["status"] == "connected"
    assert body["permissions"] == ["read", "spot"] and body["ip_restricted"] is None
    assert any("withdrawal" in w for w in body["warnings"])  # MEXC cannot report it
    rows = stored(u, "mexc")
    assert len(rows) == 1 and rows[0][2] == "t"
    assert key.encode().hex() not in rows[0][1] and secret.encode().hex() not in rows[0][1]  # sealed, not stored
    listed = u.get("/v1/exchanges").json()
    assert [(e["exchange"], e["status"], e["key_fingerprint"]) for e in listed] == [("mexc", "connected", body["key_fingerprint"])]
    assert key not in r.text and secret not in r.text
    assert audit(u) == [["mexc", "connect", "t"]]


# US-01 scenario 2
def test_reject_key_without_spot_permission(make_user):
    u = make_user()
    key, secret = sim_key("mexc", can_trade=False)
    r = u.send("POST", "/v1/exchanges/mexc/connect", {"api_key": key, "api_secret": secret})
    assert r.status_code == 400 and r.json()["code"] == "EXCH_2002" and r.json()["message"] == "SPOT permission required"
    assert stored(u, "mexc") == [] and u.get("/v1/exchanges").json() == []
    assert audit(u) == [["mexc", "connect", "f"]]


# US-01 scenario 3
def test_reject_invalid_credentials(make_user):
    u = make_user()
    key, _ = sim_key("mexc")
    r = u.send("POST", "/v1/exchanges/mexc/connect", {"api_key": key, "api_secret": "WRONG" + secrets.token_hex(8)})
    assert r.status_code == 400 and r.json()["code"] == "EXCH_2001" and r.json()["message"] == "Invalid API credentials"
    assert stored(u, "mexc") == []
    unknown = u.send("POST", "/v1/exchanges/binance/connect", {"api_key": "UNKNOWN" + secrets.token_hex(8), "api_secret": "x" * 16})
    assert unknown.status_code == 400 and unknown.json()["code"] == "EXCH_2001"
    assert stored(u, "binance") == []


def test_binance_withdrawal_permission_is_refused_and_ip_warning(make_user):
    u = make_user()
    key, secret = sim_key("binance", can_withdraw=True)
    r = u.send("POST", "/v1/exchanges/binance/connect", {"api_key": key, "api_secret": secret})
    assert r.status_code == 400 and r.json()["code"] == "EXCH_2002" and "Withdrawal" in r.json()["message"]
    assert stored(u, "binance") == []
    key, secret = sim_key("binance")
    ok = u.send("POST", "/v1/exchanges/binance/connect", {"api_key": key, "api_secret": secret})
    assert ok.status_code == 201 and ok.json()["ip_restricted"] is False
    assert any("IP restriction" in w for w in ok.json()["warnings"])
    key, secret = sim_key("binance", ip_restrict=True)
    # Reconnecting replaces the stored key atomically (one row, new fingerprint, no warning now).
    again = u.send("POST", "/v1/exchanges/binance/connect", {"api_key": key, "api_secret": secret})
    assert again.status_code == 201 and again.json()["warnings"] == [] and again.json()["key_fingerprint"] != ok.json()["key_fingerprint"]
    assert len(stored(u, "binance")) == 1


def test_free_tier_one_exchange(make_user, admin):
    u = make_user()
    k1, s1 = sim_key("mexc")
    assert u.send("POST", "/v1/exchanges/mexc/connect", {"api_key": k1, "api_secret": s1}).status_code == 201
    k2, s2 = sim_key("binance")
    r = u.send("POST", "/v1/exchanges/binance/connect", {"api_key": k2, "api_secret": s2})
    assert r.status_code == 409 and r.json()["details"] == {"connected": "mexc"}
    assert stored(u, "binance") == []
    admin.send("PATCH", f"/v1/admin/users/{u.id}", {"subscription_tier": "pro"})
    assert u.send("POST", "/v1/exchanges/binance/connect", {"api_key": k2, "api_secret": s2}).status_code == 201
    assert sorted(e["exchange"] for e in u.get("/v1/exchanges").json()) == ["binance", "mexc"]
    assert sorted(u.get("/v1/users/me").json()["connected_exchanges"]) == ["binance", "mexc"]


def test_validate_balance_and_a_key_revoked_later(make_user):
    u = make_user()
    key, secret = sim_key("binance", balances={"USDT": "1234.5", "BTC": "0.25", "ETH": "0"})
    u.send("POST", "/v1/exchanges/binance/connect", {"api_key": key, "api_secret": secret})
    v = u.send("POST", "/v1/exchanges/binance/validate")
    assert v.status_code == 200 and v.json()["is_valid"] is True and v.json()["permissions"] == ["read", "spot"]
    bal = u.get("/v1/exchanges/binance/balance").json()
    assert {b["asset"]: b["free"] for b in bal["balances"]} == {"USDT": "1234.5", "BTC": "0.25"}
    # EC-04: the exchange revokes the key; the next use marks it invalid and alerts the user, once.
    requests.delete(SIM["binance"] + f"/_sim/accounts/{key}", timeout=10)
    refused = u.get("/v1/exchanges/binance/balance")
    assert refused.status_code == 400 and refused.json()["code"] == "EXCH_2001"
    assert stored(u, "binance")[0][2] == "f"
    listed = u.get("/v1/exchanges").json()[0]
    assert listed["status"] == "invalid" and listed["invalid_reason"] == "Invalid API credentials"
    again = u.send("POST", "/v1/exchanges/binance/validate").json()
    assert again["is_valid"] is False and again["error_message"] == "Invalid API credentials"
    alerts = sql("SELECT kind, text FROM notifications WHERE user_id = :'p1'", u.id)
    assert len(alerts) == 1 and alerts[0][0] == "credentials_invalid" and key not in alerts[0][1]
    assert [a[1:] for a in audit(u)] == [["connect", "t"], ["validate", "t"], ["balance", "t"], ["balance", "f"], ["validate", "f"]]


def test_disconnect_and_unknown_exchanges(make_user):
    u = make_user()
    key, secret = sim_key("mexc")
    u.send("POST", "/v1/exchanges/mexc/connect", {"api_key": key, "api_secret": secret})
    assert u.send("DELETE", "/v1/exchanges/mexc/disconnect").status_code == 204
    assert u.get("/v1/exchanges").json() == [] and stored(u, "mexc") == []
    assert u.send("DELETE", "/v1/exchanges/mexc/disconnect").status_code == 404
    assert u.get("/v1/exchanges/mexc/balance").status_code == 404
    assert u.send("POST", "/v1/exchanges/kraken/connect", {"api_key": key, "api_secret": secret}).status_code == 404
    for body, field in [({"api_key": key}, "api_secret"), ({"api_key": "short", "api_secret": secret}, "api_key"),
                        ({"api_key": key, "api_secret": "has space inside"}, "api_secret"), ({"api_key": key, "api_secret": secret, "x": 1}, "x")]:
        r = u.send("POST", "/v1/exchanges/mexc/connect", body)
        assert r.status_code == 422 and field in [f["field"] for f in r.json()["details"]["fields"]]
    assert stored(u, "mexc") == []


def test_per_user_exchange_call_budget(make_user):
    u = make_user()
    key, secret = sim_key("mexc")
    u.send("POST", "/v1/exchanges/mexc/connect", {"api_key": key, "api_secret": secret})
    # Fill this minute's and the next minute's budget (10 calls), so the check cannot straddle a minute boundary.
    sql("""INSERT INTO exchange_call_budget (user_id, window_start, calls)
           SELECT :'p1', date_trunc('minute', now()) + make_interval(mins => m), 10 FROM generate_series(0, 1) m
           ON CONFLICT (user_id, window_start) DO UPDATE SET calls = 10""", u.id)
    r = u.get("/v1/exchanges/mexc/balance")
    assert r.status_code == 429 and r.json()["code"] == "REQ_4029" and 1 <= int(r.headers["Retry-After"]) <= 60


def test_audit_log_is_append_only_for_the_app(make_user):
    u = make_user()
    key, secret = sim_key("mexc")
    u.send("POST", "/v1/exchanges/mexc/connect", {"api_key": key, "api_secret": secret})
    app_url = open(os.environ["APP_DATABASE_URL_FILE"]).read().strip()
    import subprocess
    for statement in ["UPDATE credential_audit_log SET success = false", "DELETE FROM credential_audit_log"]:
        out = subprocess.run(["psql", app_url, "-X", "-q", "-c", statement], capture_output=True, text=True, timeout=30)
        assert out.returncode != 0 and "permission denied" in out.stderr
    assert audit(u) == [["mexc", "connect", "t"]]
