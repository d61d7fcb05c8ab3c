"""GET /v1/history and GET /v1/history.csv (issue 8): the chain signal → execution → events → reconciliation per
execution, the caller's own (an admin's scope=all: everyone's), filters, keyset pages, one 422 for every bad
parameter, and the CSV export (RFC 4180, formula-injection guard, the same rows as the JSON)."""
import csv
import io
import re
import uuid

import pytest

import seed
from conftest import sql
from trading import clear_faults, make_trader, post_signal, signal, wait_settled, webhook_key_for_new_traders

CSV_COLUMNS = ["execution_id", "user_id", "created_at", "executed_at", "exchange", "symbol", "side", "status",
               "requested_quantity", "requested_price", "filled_quantity", "filled_price", "fees", "fees_currency",
               "error_message", "signal_id", "signal_timestamp", "signal_symbol", "signal_action", "signal_confidence",
               "events", "divergences"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def key(admin):
    clear_faults()
    yield webhook_key_for_new_traders(admin, "history tests")
    clear_faults()


def history(user, query="", **kw):
    return user.get("/v1/history" + query, **kw)


def export(user, query=""):
    """The CSV (validated against the spec like every response: status, headers, and the JSON of errors)."""
    return user.get("/v1/history.csv" + query)


def records(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


def set_created(execution_id, instant):
    sql("UPDATE executions SET created_at = :'p2'::timestamptz WHERE id = :'p1'", execution_id, instant)


def problems(r):
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "REQ_4022"
    return {f["field"] for f in r.json()["details"]["fields"]}


def test_own_history_is_the_whole_chain_with_a_divergence(api, key, make_user, admin):
    trader = make_trader(make_user, admin)
    other = make_trader(make_user, admin)
    body = signal(confidence=0.85)
    assert post_signal(api, key, body).status_code == 200
    rows = wait_settled(trader, 2)
    wait_settled(other, 2)
    assert [(x[0], x[1]) for x in rows] == [("binance", "filled"), ("mexc", "filled")]
    binance_id, mexc_id = rows[0][4], rows[1][4]
    sql("""INSERT INTO reconciliation_divergences (kind, exchange, user_id, client_order_id, execution_id, action, times_seen)
           SELECT 'status_mismatch', exchange, user_id, client_order_id, id, 'adopted the exchange''s state', 2
           FROM executions WHERE id = :'p1'""", binance_id)

    items = history(trader.user).json()
    assert {i["id"] for i in items} == {binance_id, mexc_id}   # the other trader's executions of the same signal are not here
    assert all(i["user_id"] == trader.user.id for i in items)
    assert [i["created_at"] for i in items] == sorted((i["created_at"] for i in items), reverse=True)
    by_id = {i["id"]: i for i in items}
    for item in items:
        assert item["signal"] == {"signal_id": body["signal_id"], "timestamp": body["timestamp"], "symbol": "BTC/USDT",
                                  "action": 2, "confidence": 0.85}
        assert item["status"] == "filled" and item["side"] == "buy" and item["symbol"] == "BTCUSDT"
        assert [e["to_status"] for e in item["events"]] == ["pending", "submitted", "filled"]
        assert item["events"][0]["from_status"] is None and item["events"][0]["actor"] == "webhook"
        # The same timeline as the execution's own detail.
        detail = trader.user.get(f"/v1/executions/{item['id']}").json()
        assert [(e["to_status"], e["at"]) for e in detail["events"]] == [(e["to_status"], e["created_at"]) for e in item["events"]]
        assert (item["filled_quantity"], item["filled_price"], item["fees"]) == (detail["filled_quantity"], detail["filled_price"], detail["fees"])
        assert item["requested_quantity"] == detail["requested_quantity"] and item["requested_price"] is not None
    [divergence] = by_id[binance_id]["divergences"]
    assert divergence["kind"] == "status_mismatch" and divergence["action"] == "adopted the exchange's state"
    assert divergence["times_seen"] == 2 and divergence["first_seen_at"] <= divergence["last_seen_at"]
    assert by_id[mexc_id]["divergences"] == []
    # The other trader sees only theirs.
    assert {i["user_id"] for i in history(other.user).json()} == {other.user.id}


def test_admin_sees_everyone_with_scope_all_and_nobody_else_does(make_user, admin):
    u1, u2 = make_user(), make_user()
    sid, sig = seed.signal()
    e1 = seed.execution(u1.id, sig, exchange="binance")
    e2 = seed.execution(u2.id, sig, exchange="mexc")
    everyone = history(admin, f"?scope=all&signal_id={sid}").json()
    assert {(i["id"], i["user_id"]) for i in everyone} == {(e1, u1.id), (e2, u2.id)}
    assert history(admin, f"?signal_id={sid}").json() == []          # the admin's own history: none
    assert history(admin, f"?scope=mine&signal_id={sid}").json() == []
    assert [i["id"] for i in history(u1, f"?signal_id={sid}").json()] == [e1]
    r = history(u1, "?scope=all")
    assert r.status_code == 403 and r.json()["code"] == "AUTH_1003"
    # Validation comes first: a non-admin's bad scope=all request is a 422.
    assert problems(history(u1, "?scope=all&status=done")) == {"status"}
    assert problems(history(u1, "?scope=everyone")) == {"scope"}


def test_filters(make_user):
    u = make_user()
    made = {}
    for name, exchange, status, instant in [
        ("a", "binance", "filled", "2026-01-01T10:00:00.000001Z"),
        ("b", "mexc", "rejected", "2026-01-02T10:00:00.123456Z"),
        ("c", "binance", "failed", "2026-01-03T10:00:00.5Z"),
        ("d", "mexc", "filled", "2026-01-04T10:00:00Z"),
    ]:
        sid, sig = seed.signal()
        eid = seed.execution(u.id, sig, exchange=exchange, status=status)
        set_created(eid, instant)
        made[name] = (eid, sid)

    def ids(query):
        r = history(u, query)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()]

    assert ids("") == [made[n][0] for n in "dcba"]
    assert ids("?exchange=mexc") == [made["d"][0], made["b"][0]]
    assert ids("?status=filled") == [made["d"][0], made["a"][0]]
    assert ids("?status=filled&exchange=binance") == [made["a"][0]]
    assert ids(f"?signal_id={made['c'][1]}") == [made["c"][0]]
    assert ids("?signal_id=no-such-signal") == []
    assert ids("?from=2026-01-02T00:00:00Z") == [made[n][0] for n in "dcb"]
    assert ids("?to=2026-01-02T23:59:59Z") == [made[n][0] for n in "ba"]
    assert ids("?from=2026-01-02T00:00:00Z&to=2026-01-03T23:00:00Z&exchange=binance") == [made["c"][0]]
    # Bounds are inclusive at millisecond precision: the created_at shown is a bound that keeps the row.
    shown = next(i["created_at"] for i in history(u).json() if i["id"] == made["b"][0])
    assert shown == "2026-01-02T10:00:00.123Z"
    assert ids(f"?from={shown}&to={shown}") == [made["b"][0]]
    assert ids("?from=2026-01-02T10:00:00.124Z&to=2026-01-02T23:00:00Z") == []
    assert ids("?to=2026-01-02T10:00:00.122Z") == [made["a"][0]]
    # Offsets (a '+' percent-encoded) and PostgreSQL's form.
    assert ids("?from=2026-01-03T11:00:00.5%2B01:00") == [made[n][0] for n in "dc"]
    assert ids("?to=2026-01-01%2010:00:00.001%2B00") == [made["a"][0]]
    assert ids("?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z") == [made[n][0] for n in "dcba"]


def test_pages_follow_the_cursor(make_user):
    u = make_user()
    made = [seed.execution(u.id, seed.signal()[1], exchange=ex, status=st) for ex, st in
            [("binance", "filled"), ("mexc", "rejected"), ("binance", "submitted"), ("mexc", "filled"), ("binance", "failed")]]
    whole = [i["id"] for i in history(u).json()]
    assert sorted(whole) == sorted(made)
    seen, path, pages = [], "?limit=2", 0
    while True:
        r = history(u, path)
        pages += 1
        seen += [i["id"] for i in r.json()]
        cursor = r.headers.get("X-Next-Cursor")
        if not cursor:
            break
        path = f"?limit=2&cursor={cursor}"
    assert seen == whole and pages == 3
    # A cursor combines with the filters it came from.
    filled = history(u, "?status=filled&limit=1")
    assert len(filled.json()) == 1
    rest = history(u, f"?status=filled&limit=1&cursor={filled.headers['X-Next-Cursor']}").json()
    assert [i["status"] for i in rest] == ["filled"] and rest[0]["id"] != filled.json()[0]["id"]
    # Another user's cursor (well-formed, outside the caller's scope) gives an empty page.
    other = make_user()
    assert history(other, f"?cursor={filled.headers['X-Next-Cursor']}").json() == []


def test_every_bad_parameter_in_one_422(make_user):
    u = make_user()
    everything = ("?from=yesterday&to=1969-12-31T00:00:00Z&status=done&signal_id=" + "x" * 51 +
                  "&exchange=kraken&limit=0&cursor=@@@&scope=everyone&foo=1")
    assert problems(history(u, everything)) == {"from", "to", "status", "signal_id", "exchange", "limit", "cursor", "scope", "foo"}
    assert problems(history(u, "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")) == {"to"}
    assert problems(history(u, "?status=filled&status=failed")) == {"status"}
    for bad in ["?from=2026-01-01T00:00:00+00:00",          # '+' unencoded is a space
                "?from=0000-01-01T00:00:00Z", "?to=9999-12-31T23:59:59-01:00", "?from=2026-02-30T00:00:00Z",
                "?signal_id=", "?signal_id=a%00b", "?signal_id=a%0Ab", "?limit=201", "?limit=abc", "?exchange=",
                "?status=", "?scope=", "?unknown", "?cursor=" + str(uuid.uuid4())]:
        assert len(problems(history(u, bad))) == 1, bad
    # The export takes the filters and scope, not the page parameters.
    assert problems(export(u, "?limit=10&cursor=abc&status=done")) == {"limit", "cursor", "status"}


def test_a_token_is_required(api):
    for path in ["/v1/history", "/v1/history.csv"]:
        r = api.call("GET", path)
        assert r.status_code == 401 and r.json()["code"] == "AUTH_1001" and r.headers["WWW-Authenticate"] == "Bearer"
        assert api.call("GET", path, token="not-a-jwt").status_code == 401


def test_csv_is_rfc4180_guarded_and_matches_the_json(make_user):
    u = make_user()
    made = [seed.execution(u.id, seed.signal()[1], exchange=ex, status=st) for ex, st in
            [("binance", "filled"), ("mexc", "rejected"), ("binance", "failed"), ("mexc", "filled"), ("binance", "rejected"),
             ("mexc", "failed"), ("binance", "filled")]]
    # Values that need quoting, and values a spreadsheet would run as formulas.
    sql(r"""UPDATE executions SET error_message = E'Bad, "odd"\r\nsecond line\nthird' WHERE id = :'p1'""", made[0])
    for eid, text in zip(made[1:], ["=HYPERLINK(\"http://x.example\",\"y\")", "+SUM(1,2)", "-2+3", "@cmd", "\tlead tab", "\rlead cr"]):
        sql("UPDATE executions SET error_message = :'p2' WHERE id = :'p1'", eid, text)
    sid = "=evil-" + uuid.uuid4().hex[:12]
    sig = sql("""INSERT INTO signals (signal_id, timestamp, symbol, action, confidence) VALUES (:'p1', now(), 'BTC/USDT', 0, 0.705)
                 RETURNING id""", sid)[0][0]
    evil = seed.execution(u.id, sig, exchange="mexc", status="cancelled", events=(("pending", "cancelled"),))
    sql("""INSERT INTO reconciliation_divergences (kind, exchange, user_id, client_order_id, execution_id, action)
           VALUES ('fill_mismatch', 'mexc', :'p1', :'p2', :'p3', 'alerted')""", u.id, "sb" + uuid.uuid4().hex[:30], evil)
    sql("""INSERT INTO reconciliation_divergences (kind, exchange, user_id, client_order_id, execution_id, action)
           VALUES ('status_mismatch', 'mexc', :'p1', :'p2', :'p3', 'alerted')""", u.id, "sb" + uuid.uuid4().hex[:30], evil)

    r = export(u)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="signalbridge-history.csv"'
    assert r.headers["X-Export-Truncated"] == "false" and r.headers["Cache-Control"] == "no-store"

    rows = records(r)
    assert rows[0] == CSV_COLUMNS
    data = [dict(zip(CSV_COLUMNS, row)) for row in rows[1:]]
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)

    # Line ends: outside quoted fields, CRLF and nothing else; one per record.
    outside = re.sub(rb'"(?:[^"]|"")*"', b"Q", r.content)
    assert outside.endswith(b"\r\n") and outside.count(b"\r\n") == len(rows)
    assert b"\r" not in outside.replace(b"\r\n", b"") and b"\n" not in outside.replace(b"\r\n", b"")
    # Quoting: the comma, quote and line breaks survive inside one quoted field, quotes doubled.
    assert b'"Bad, ""odd""\r\nsecond line\nthird"' in r.content
    by_id = {d["execution_id"]: d for d in data}
    assert by_id[made[0]]["error_message"] == 'Bad, "odd"\r\nsecond line\nthird'
    # The formula guard: a leading ' on text fields that start like a formula.
    assert [by_id[e]["error_message"] for e in made[1:]] == [
        "'=HYPERLINK(\"http://x.example\",\"y\")", "'+SUM(1,2)", "'-2+3", "'@cmd", "'\tlead tab", "'\rlead cr"]
    assert by_id[evil]["signal_id"] == "'" + sid
    assert by_id[evil]["events"] == "pending>cancelled" and by_id[evil]["divergences"] == "fill_mismatch|status_mismatch"

    # Row for row, the JSON's items in the JSON's order.
    items = history(u, "?limit=200").json()
    assert [d["execution_id"] for d in data] == [i["id"] for i in items]

    def guarded(value):
        return "'" + value if value and value.startswith(FORMULA_STARTS) else value

    for d, i in zip(data, items):
        assert d["user_id"] == i["user_id"] == u.id
        for column in ["created_at", "executed_at", "requested_quantity", "requested_price", "filled_quantity", "filled_price", "fees"]:
            assert d[column] == (i[column] or ""), column
        for column in ["exchange", "symbol", "side", "status", "fees_currency", "error_message"]:
            assert d[column] == guarded(i[column] or ""), column
        s = i["signal"]
        assert (d["signal_id"], d["signal_timestamp"], d["signal_symbol"]) == (guarded(s["signal_id"]), s["timestamp"], s["symbol"])
        assert int(d["signal_action"]) == s["action"] and float(d["signal_confidence"]) == s["confidence"]
        assert d["events"] == ">".join(e["to_status"] for e in i["events"])
        assert d["divergences"] == "|".join(v["kind"] for v in i["divergences"])


def test_csv_filters_scope_and_errors(make_user, admin):
    u1, u2 = make_user(), make_user()
    sid, sig = seed.signal()
    e1 = seed.execution(u1.id, sig, exchange="binance", status="filled")
    e2 = seed.execution(u2.id, sig, exchange="mexc", status="rejected")
    e3 = seed.execution(u1.id, seed.signal()[1], exchange="mexc", status="rejected")

    def ids(user, query=""):
        r = export(user, query)
        assert r.status_code == 200, r.text
        rows = records(r)
        assert rows[0] == CSV_COLUMNS
        return [row[0] for row in rows[1:]]

    assert sorted(ids(u1)) == sorted([e1, e3])
    assert ids(u1, "?status=rejected") == [e3]
    assert ids(u1, "?exchange=binance") == [e1]
    assert ids(u1, f"?signal_id={sid}") == [e1]
    assert ids(u1, "?from=2999-01-01T00:00:00Z") == []            # just the header
    assert sorted(ids(admin, f"?scope=all&signal_id={sid}")) == sorted([e1, e2])
    r = export(u1, "?scope=all")
    assert r.status_code == 403 and r.json()["code"] == "AUTH_1003"
    assert problems(export(u1, "?exchange=kraken&to=nope")) == {"exchange", "to"}


def test_csv_is_streamed_over_several_pages(make_user):
    """1,100 executions: three of the export's 500-row pages, every row once, in the JSON's order."""
    u = make_user()
    sql("""WITH s AS (INSERT INTO signals (signal_id, timestamp, symbol, action, confidence)
                      SELECT 'bulk-' || :'p2' || '-' || g, now(), 'BTC/USDT', 2, 0.9 FROM generate_series(1, 550) g RETURNING id)
           INSERT INTO executions (request_id, client_order_id, user_id, signal_id, exchange, symbol, exchange_symbol, side, status,
                                   created_at)
           SELECT c.id, c.id, :'p1', s.id,
                  x.exchange, 'BTCUSDT', 'BTCUSDT', 'buy', 'filled',
                  now() - random() * interval '1 hour'
           FROM s CROSS JOIN (VALUES ('binance'), ('mexc')) x(exchange)
                CROSS JOIN LATERAL (SELECT 'sb' || left(md5(random()::text || clock_timestamp()::text || s.id::text || x.exchange), 30) AS id) c""", u.id, uuid.uuid4().hex[:12])
    r = export(u)
    assert r.status_code == 200 and r.headers["X-Export-Truncated"] == "false"
    csv_ids = [row[0] for row in records(r)[1:]]
    assert len(csv_ids) == 1100 and len(set(csv_ids)) == 1100
    json_ids, path = [], "?limit=200"
    while True:
        page = history(u, path)
        json_ids += [i["id"] for i in page.json()]
        cursor = page.headers.get("X-Next-Cursor")
        if not cursor:
            break
        path = f"?limit=200&cursor={cursor}"
    assert csv_ids == json_ids
