"""GET/PATCH /v1/users/me, GET/PUT /v1/trading/config, POST /v1/trading/toggle (US-02)."""


def test_profile_update_and_risk_limits(make_user):
    u = make_user()
    r = u.send("PATCH", "/v1/users/me", {"risk_profile": "aggressive", "max_daily_trades": 20, "max_position_size_pct": 0.05})
    assert r.status_code == 200
    assert (r.json()["risk_profile"], r.json()["max_daily_trades"], r.json()["max_position_size_pct"]) == ("aggressive", 20, 0.05)
    over = u.send("PATCH", "/v1/users/me", {"risk_profile": "moderate"})
    assert over.status_code == 422 and over.json()["details"]["fields"] == [{"field": "risk_profile", "error": "Exceeds risk profile limit"}]
    # The strategy's stop-loss (default 2 %) must also fit a lower profile: lower it first.
    blocked = u.send("PATCH", "/v1/users/me", {"risk_profile": "conservative", "max_position_size_pct": 0.01})
    assert blocked.status_code == 422 and blocked.json()["details"]["fields"][0]["field"] == "risk_profile"
    assert u.get("/v1/users/me").json()["risk_profile"] == "aggressive"
    u.send("PUT", "/v1/trading/config", {"symbol": "BTC/USDT", "stop_loss_pct": 0.01, "take_profit_pct": 0.05,
                                         "min_confidence": 0.7, "execute_on_exchanges": ["binance"]})
    down = u.send("PATCH", "/v1/users/me", {"risk_profile": "conservative", "max_position_size_pct": 0.01})
    assert down.status_code == 200 and down.json()["risk_profile"] == "conservative"


def test_invalid_profile_updates_change_nothing(make_user):
    u = make_user()
    before = u.get("/v1/users/me").json()
    for body, field in [
        ({"max_daily_trades": 0}, "max_daily_trades"), ({"max_daily_trades": 101}, "max_daily_trades"),
        ({"max_daily_trades": "10"}, "max_daily_trades"), ({"max_daily_trades": 10 ** 30}, "max_daily_trades"),
        ({"max_position_size_pct": 0.5}, "max_position_size_pct"), ({"max_position_size_pct": 0.03}, "max_position_size_pct"),
        ({"risk_profile": "yolo"}, "risk_profile"), ({"email": "other@example.com"}, "email"),
        ({"subscription_tier": "enterprise"}, "subscription_tier"), ({"max_daily_trades": 1.5}, "max_daily_trades"),
    ]:
        r = u.send("PATCH", "/v1/users/me", body)
        assert r.status_code == 422, (body, r.text)
        assert field in [f["field"] for f in r.json()["details"]["fields"]]
    assert u.get("/v1/users/me").json() == before


def test_trading_config_us02(make_user):
    u = make_user()
    default = u.get("/v1/trading/config").json()
    assert default["is_enabled"] is False
    body = {"symbol": "BTC/USDT", "stop_loss_pct": 0.02, "take_profit_pct": 0.05, "min_confidence": 0.75, "execute_on_exchanges": ["mexc"]}
    saved = u.send("PUT", "/v1/trading/config", body).json()
    assert {k: saved[k] for k in body} == body
    assert u.get("/v1/trading/config").json()["min_confidence"] == 0.75
    # Conservative users (max 1 % per trade) cannot set a 3 % stop-loss.
    assert u.send("PUT", "/v1/trading/config", dict(body, stop_loss_pct=0.01)).status_code == 200
    assert u.send("PATCH", "/v1/users/me", {"risk_profile": "conservative", "max_position_size_pct": 0.01}).status_code == 200
    refused = u.send("PUT", "/v1/trading/config", dict(body, stop_loss_pct=0.03))
    assert refused.status_code == 422
    assert refused.json()["details"]["fields"] == [{"field": "stop_loss_pct", "error": "Exceeds risk profile limit"}]
    assert u.get("/v1/trading/config").json()["stop_loss_pct"] == 0.01


def test_trading_config_validation(make_user):
    u = make_user()
    good = {"symbol": "BTC/USDT", "stop_loss_pct": 0.01, "take_profit_pct": 0.05, "min_confidence": 0.7, "execute_on_exchanges": ["binance"]}
    for change, field in [({"symbol": "btc-usdt"}, "symbol"), ({"min_confidence": 0.755}, "min_confidence"),
                          ({"stop_loss_pct": 0.01234}, "stop_loss_pct"), ({"symbol": "BAD\u0000/USDT"}, "symbol"), ({"min_confidence": 1.5}, "min_confidence"),
                          ({"execute_on_exchanges": ["kraken"]}, "execute_on_exchanges"), ({"take_profit_pct": 0.9}, "take_profit_pct"),
                          ({"extra": 1}, "extra"), ({"execute_on_exchanges": "binance"}, "execute_on_exchanges")]:
        r = u.send("PUT", "/v1/trading/config", dict(good, **change))
        assert r.status_code == 422 and field in [f["field"] for f in r.json()["details"]["fields"]], (change, r.text)
    missing = dict(good)
    del missing["symbol"]
    assert u.send("PUT", "/v1/trading/config", missing).status_code == 422
    # The longest valid symbol (10/10) fits.
    assert u.send("PUT", "/v1/trading/config", dict(good, symbol="ABCDEFGHIJ/KLMNOPQRST")).status_code == 200


def test_toggle(make_user):
    u = make_user()
    assert u.send("POST", "/v1/trading/toggle", {"enabled": True}).json()["is_enabled"] is True
    assert u.get("/v1/trading/config").json()["is_enabled"] is True
    assert u.send("POST", "/v1/trading/toggle", {"enabled": "yes"}).status_code == 422
    assert u.send("POST", "/v1/trading/toggle", {"enabled": False}).json()["is_enabled"] is False
