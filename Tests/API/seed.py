"""Rows the webhook and the execution engine will write (issue 4), inserted directly for the read APIs."""
import uuid

from conftest import sql


def signal(symbol="BTC/USDT", action=2, confidence="0.850", ts="now()"):
    sid = f"sig-{uuid.uuid4().hex[:16]}"
    row = sql(f"""INSERT INTO signals (signal_id, timestamp, symbol, action, confidence, model_version, features_snapshot)
                  VALUES (:'p1', {ts}, :'p2', :'p3', :'p4', 'v21', '{{"rsi": 71.5}}') RETURNING id""",
              sid, symbol, action, confidence)
    return sid, row[0][0]


def execution(user_id, signal_uuid, exchange="binance", status="filled", events=(("pending", "submitted"), ("submitted", "filled"))):
    rid = f"req-{uuid.uuid4().hex[:16]}"
    row = sql("""INSERT INTO executions (request_id, client_order_id, user_id, signal_id, exchange, symbol, exchange_symbol, side,
                                          requested_quantity, status, exchange_order_id, filled_quantity, filled_price, fees,
                                          fees_currency, executed_at)
                 VALUES ('sb' || left(md5(:'p1'), 30), 'sb' || left(md5(:'p1'), 30), :'p2', :'p3', :'p4', 'BTCUSDT', 'BTCUSDT', 'buy', 0.01, :'p5', '12345',
                         0.01, 50000, 0.00001, 'BTC', now())
                 RETURNING id""", rid, user_id, signal_uuid, exchange, status)
    eid = row[0][0]
    sql("INSERT INTO execution_events (execution_id, from_status, to_status, actor) VALUES (:'p1', NULL, 'pending', 'webhook')", eid)
    for frm, to in events:
        sql("INSERT INTO execution_events (execution_id, from_status, to_status, actor, reason) VALUES (:'p1', :'p2', :'p3', 'engine', 'test')",
            eid, frm, to)
    return eid
