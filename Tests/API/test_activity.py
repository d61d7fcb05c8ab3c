"""GET /v1/signals, GET /v1/executions (filters, cursor), GET /v1/executions/{id} (with its events)."""
import uuid

import seed


def test_signals_list_and_since(make_user):
    u = make_user()
    old_id, _ = seed.signal(ts="now() - interval '2 days'")
    new_id, _ = seed.signal()
    listed = u.get("/v1/signals?limit=200").json()
    ids = [s["signal_id"] for s in listed]
    assert new_id in ids and ids.index(new_id) < (ids.index(old_id) if old_id in ids else len(ids))
    recent = [s["signal_id"] for s in u.get("/v1/signals?since=" + "2000-01-01T00:00:00Z").json()]
    assert new_id in recent
    future = u.get("/v1/signals?since=2999-01-01T00:00:00Z").json()
    assert future == []
    entry = next(s for s in listed if s["signal_id"] == new_id)
    assert entry["action"] == 2 and entry["confidence"] == 0.85 and entry["features_snapshot"] == {"rsi": 71.5}
    for bad in ["?limit=0", "?limit=201", "?limit=abc", "?since=yesterday"]:
        r = u.get("/v1/signals" + bad)
        assert r.status_code == 422, bad


def test_executions_filters_cursor_and_detail(make_user):
    u = make_user()
    # One signal each: an execution is unique per (signal, user, exchange).
    made = [seed.execution(u.id, seed.signal()[1], exchange=ex, status=st) for ex, st in
            [("binance", "filled"), ("mexc", "rejected"), ("binance", "submitted"), ("mexc", "filled"), ("binance", "failed")]]
    all_ids = [e["id"] for e in u.get("/v1/executions").json()]
    assert sorted(all_ids) == sorted(made)
    assert {e["exchange"] for e in u.get("/v1/executions?exchange=mexc").json()} == {"mexc"}
    assert [e["status"] for e in u.get("/v1/executions?status=failed").json()] == ["failed"]
    # Pages of two, following X-Next-Cursor, visit every execution exactly once.
    seen, path = [], "/v1/executions?limit=2"
    for _ in range(10):
        r = u.get(path)
        seen += [e["id"] for e in r.json()]
        cursor = r.headers.get("X-Next-Cursor")
        if not cursor:
            break
        path = f"/v1/executions?limit=2&cursor={cursor}"
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    detail = u.get(f"/v1/executions/{made[0]}").json()
    assert [ev["to_status"] for ev in detail["events"]] == ["pending", "submitted", "filled"]
    assert detail["filled_price"] == "50000.00000000" and detail["signal_id"].startswith("sig-")
    for bad in ["?exchange=kraken", "?status=done", "?cursor=@@@", "?limit=500"]:
        assert u.get("/v1/executions" + bad).status_code == 422, bad
    assert u.get(f"/v1/executions/{uuid.uuid4()}").status_code == 404
    assert u.get("/v1/executions/not-a-uuid").status_code == 404
