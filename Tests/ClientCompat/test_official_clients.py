"""Official-client compatibility test for the exchange simulator.

The test drives the simulator only through unmodified official clients:

* Binance dialect (SIM_BINANCE_URL, default http://127.0.0.1:9101):
  binance-connector-python (`binance.spot.Spot`) and CCXT (`ccxt.binance`);
* MEXC spot v3 dialect (SIM_MEXC_URL, default http://127.0.0.1:9102): CCXT (`ccxt.mexc`).

If those clients can load markets, read balances, place, query and cancel orders, and get
the exchange's own error codes for a bad signature and a stale timestamp, then the
simulator speaks the protocols the way the real exchanges do (signing over the exact
bytes, parameter placement, content types, response shapes and error bodies).

Nothing in the clients' signing code is patched. The clients are only configured
(URLs, options). The stale-timestamp case shifts the clock the client reads: a CCXT
option for CCXT, and the connector's `get_timestamp` helper for binance-connector.

What the installed client sources do (ccxt 4.5.90, binance-connector 3.13.0), read from
site-packages and relied on below:

ccxt.binance (ccxt/binance.py)
  * URLs: `sign()` builds `urls['api'][<section>] + '/' + path`. The sections used here are
    'public' (https://api.binance.com/api/v3) and 'private' (same). Every entry of
    `urls['api']` (sapi*, fapi*, dapi*, eapi*, papi*, v1, public, private) is repointed to
    the simulator, keeping its path, so a stray call fails against the simulator and never
    reaches the internet.
  * load_markets(): `Exchange.load_markets` calls `fetch_currencies()` (has it) and then
    `fetch_markets()`.
      - fetch_currencies returns {} without any request unless options['fetchCurrencies']
        is True (the default is True: GET /sapi/v1/capital/config/getall, plus
        /sapi/v1/margin/allPairs when fetchMargins). We set 'fetchCurrencies': False.
      - fetch_markets requests one exchangeInfo per type in
        options['fetchMarkets']['types'] (default spot, linear, inverse = /api/v3,
        /fapi/v1 and /dapi/v1 exchangeInfo). With 'fetchMargins' True (the default)
        and keys set, spot also calls /sapi/v1/margin/allPairs and
        /sapi/v1/margin/isolated/allPairs. We set types ['spot'] and 'fetchMargins' False,
        so the only request is GET /api/v3/exchangeInfo (no query string).
      - 'adjustForTimeDifference' False (the default, set explicitly) means no GET
        /api/v3/time.
  * fetch_balance(): GET /api/v3/account (privateGetAccount).
  * Signed requests: params = {timestamp: nonce()} + request params + recvWindow=10000
    (options['recvWindow']). query = urlencode(params) + '&signature=' + hex HMAC-SHA256.
    GET and DELETE put it in the URL. POST sends it as the body with
    Content-Type: application/x-www-form-urlencoded and no query string. Header X-MBX-APIKEY.
  * nonce() = milliseconds() - options['timeDifference']. Setting 'timeDifference' to
    60000 (configuration, not a patch) makes it sign with a timestamp 60 s in the past.
  * create_order spot LIMIT: POST /api/v3/order with symbol, side, newClientOrderId
    ('x-TKT5PX2F' + 22 hex chars), newOrderRespType=FULL, type=LIMIT, quantity, price,
    timeInForce=GTC. MARKET without a price sends quantity (not quoteOrderQty).
    amount/price are formatted from LOT_SIZE.stepSize and PRICE_FILTER.tickSize, and the
    type must be listed in the symbol's orderTypes, or ccxt refuses before sending.
  * fetch_order: GET /api/v3/order?timestamp&symbol&orderId&recvWindow&signature.
    cancel_order: DELETE /api/v3/order with the same parameters, in the URL.
  * Errors: handle_errors maps the JSON `code` through exceptions['exact'] (-1022 ->
    AuthenticationError, -1021 -> InvalidNonce, -2013/-2011 -> OrderNotFound). The
    per-market-type tables are used only for *.binance.com hosts, so they do not apply here.

ccxt.mexc (ccxt/mexc.py)
  * URLs: urls['api'] = {spot: {public, private}: https://api.mexc.com, spot2: .../open/api/v2,
    contract: {public: https://api.mexc.com/api/v1/contract, private: .../api/v1/private},
    broker: {private: .../api/v3/broker}}. Spot requests go to
    urls['api']['spot'][access] + '/api/v3/' + path. All entries are repointed to the simulator.
  * load_markets(): fetch_currencies() (has it; with keys set it calls the SIGNED
    GET /api/v3/capital/config/getall, answered with []), then fetch_markets(), which
    always calls both GET /api/v3/exchangeInfo and GET /api/v1/contract/detail
    (answered with {"success":true,"code":0,"data":[]}). options['fetchMarkets'] is not
    consulted, so this cannot be configured away.
  * fetch_balance(): GET /api/v3/account.
  * Signed requests: every parameter (request params, then timestamp=nonce(),
    recvWindow=5000) is urlencoded into the URL for every method. Then '&signature=' +
    lowercase hex HMAC-SHA256 of that string. No body. Headers X-MEXC-APIKEY and
    source: CCXT. Content-Type: application/json only on POST/PUT/DELETE.
    nonce() = milliseconds() - options['timeDifference'].
  * create_order spot: POST /api/v3/order?symbol&side&type[&quantity][&price]&timestamp&
    recvWindow&signature. LIMIT has no timeInForce. MARKET without price sends quantity.
    amount/price precision come from baseAssetPrecision/quoteAssetPrecision. No
    newClientOrderId unless the caller passes clientOrderId.
  * fetch_order GET /api/v3/order?symbol&orderId&...; cancel_order DELETE /api/v3/order?symbol&orderId&...
  * Errors: a reply with `success: true` is never an error. Otherwise any `code` other than
    "0"/"200" is an error: broad message matches first, then exceptions['exact']
    (700002 -> AuthenticationError, 700003 -> InvalidNonce, 700001 -> AuthenticationError).
  * Statuses: NEW/PARTIALLY_FILLED -> open, FILLED -> closed, CANCELED/PARTIALLY_CANCELED ->
    canceled. MEXC's POST /api/v3/order reply carries no status, so the test reads the status
    with fetch_order.

binance-connector (binance/api.py, binance/lib/utils.py)
  * Every method sends ALL parameters in the query string, for GET, POST and DELETE alike.
    Order: the call's params, then timestamp (ms, `get_timestamp()`), then signature
    (lowercase hex). The body is empty. Session headers on every request:
    Content-Type: application/json;charset=utf-8, X-MBX-APIKEY, User-Agent.
  * No recvWindow unless the caller passes one (server default 5000).
  * 4xx replies: raises ClientError(status, err["code"], err["msg"], ...), so the error
    JSON must carry both "code" and "msg". 5xx replies raise ServerError.
  * `sign_request` always overwrites `timestamp` with `binance.api.get_timestamp()`, with
    no option for a custom timestamp. The stale-timestamp test therefore monkeypatches
    that module-level helper (test-only; the signing code is untouched).
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest

import binance.api
import ccxt
from binance.error import ClientError
from binance.spot import Spot

BINANCE_URL = os.environ.get("SIM_BINANCE_URL", "http://127.0.0.1:9101").rstrip("/")
MEXC_URL = os.environ.get("SIM_MEXC_URL", "http://127.0.0.1:9102").rstrip("/")

SYMBOLS = {"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT", "LTCUSDT": "LTC/USDT"}
PRICE = Decimal("50000")  # BTCUSDT, set explicitly by every trading test
LIMIT_PRICE = "45000"  # below the price: a BUY there must rest
QTY = "0.01"
START_USDT = Decimal("10000")
START_BTC = Decimal("1")
STALE_MS = 60_000  # how far in the past the stale-timestamp clients sign
MAX_FEE = Decimal("0.002")  # tolerated commission on the market fill (0.2 %)


def D(value) -> Decimal:
    """Exact decimal of a string or number (floats via str, so 0.01 stays 0.01)."""
    return Decimal(str(value))


# --------------------------------------------------------------------------- HTTP helpers


def _http(method: str, url: str, body=None, timeout: float = 10.0):
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # an HTTP answer, just not 2xx
        return error.code, error.read()


def _unreachable(name: str, base: str):
    """None if something answers HTTP at `base`, else a sentence saying what failed."""
    try:
        _http("GET", base + "/api/v3/ping", timeout=5)
        return None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"{name} simulator not reachable at {base} ({reason})"


# Skip nothing: without a simulator every test here would be meaningless, so stop at
# collection with one clear message (pytest reports it as an error, and the run fails).
_PROBLEMS = [p for p in (_unreachable("Binance", BINANCE_URL), _unreachable("MEXC", MEXC_URL)) if p]
if _PROBLEMS:
    pytest.fail(
        "; ".join(_PROBLEMS)
        + ". Start the exchange simulator first (`make test` does), or point SIM_BINANCE_URL /"
        " SIM_MEXC_URL at it.",
        pytrace=False,
    )


class Simulator:
    """The simulator's control API (identical on both ports)."""

    def __init__(self, name: str, base: str):
        self.name = name
        self.base = base

    def control(self, method: str, path: str, body=None):
        status, raw = _http(method, self.base + path, body)
        if not 200 <= status < 300:
            pytest.fail(
                f"{self.name} simulator control call {method} {path} answered HTTP {status}: {raw[:500]!r}",
                pytrace=False,
            )
        text = raw.decode() if raw else ""
        return json.loads(text) if text.strip() else None

    def reset(self):
        self.control("POST", "/_sim/reset", {})

    def set_price(self, symbol: str, price) -> None:
        self.control("POST", "/_sim/prices", {symbol: str(price)})

    def new_account(self, key: str, secret: str, balances=None) -> None:
        self.control(
            "POST",
            "/_sim/accounts",
            {
                "api_key": key,
                "api_secret": secret,
                "can_trade": True,
                "can_withdraw": False,
                "ip_restrict": False,
                "balances": balances or {"USDT": str(START_USDT), "BTC": str(START_BTC)},
            },
        )

    def orders(self, key: str) -> list:
        result = self.control("GET", "/_sim/orders?api_key=" + urllib.parse.quote(key, safe=""))
        assert isinstance(result, list), f"GET /_sim/orders must return a JSON array, got {result!r}"
        return result


def _holds_id(order: dict, order_id) -> bool:
    """Whether a /_sim/orders entry carries this exchange order id, under whatever key name."""
    return any(str(value) == str(order_id) for value in order.values())


def _assert_recorded(sim: Simulator, key: str, order_ids) -> None:
    recorded = sim.orders(key)
    assert len(recorded) == len(order_ids), f"/_sim/orders for this key: {recorded!r}"
    for order_id in order_ids:
        assert any(_holds_id(o, order_id) for o in recorded), f"order {order_id} missing from {recorded!r}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def binance_sim() -> Simulator:
    sim = Simulator("Binance", BINANCE_URL)
    sim.reset()
    return sim


@pytest.fixture(scope="module")
def mexc_sim() -> Simulator:
    sim = Simulator("MEXC", MEXC_URL)
    sim.reset()
    return sim


@pytest.fixture
def binance_account(binance_sim):
    """A fresh funded account with Binance-shaped random credentials (64 chars each)."""
    key, secret = secrets.token_hex(32), secrets.token_hex(32)
    binance_sim.new_account(key, secret)
    binance_sim.set_price("BTCUSDT", PRICE)
    return key, secret


@pytest.fixture
def mexc_account(mexc_sim):
    """A fresh funded account with MEXC-shaped random credentials (mx0… key, 32-hex secret)."""
    key, secret = "mx0" + secrets.token_hex(8), secrets.token_hex(16)
    mexc_sim.new_account(key, secret)
    mexc_sim.set_price("BTCUSDT", PRICE)
    return key, secret


def _wrong_secret(secret: str) -> str:
    other = secrets.token_hex(len(secret) // 2)
    return other if other != secret else _wrong_secret(secret)


# --------------------------------------------------------------------------- client factories


def _repoint(urls, base: str):
    """Copy of a (nested) ccxt urls['api'] map with every URL's scheme+host replaced by `base`."""
    if isinstance(urls, dict):
        return {k: _repoint(v, base) for k, v in urls.items()}
    if isinstance(urls, str):
        return base + urllib.parse.urlsplit(urls).path.rstrip("/")
    return urls


def _all_urls(urls):
    if isinstance(urls, dict):
        for value in urls.values():
            yield from _all_urls(value)
    elif isinstance(urls, str):
        yield urls


def _ccxt(exchange_class, base: str, key: str, secret: str, options: dict):
    exchange = exchange_class(
        {
            "apiKey": key,
            "secret": secret,
            "timeout": 10_000,
            "enableRateLimit": False,  # the simulator does not need throttling; formats are unchanged
            "options": options,
        }
    )
    exchange.urls["api"] = _repoint(exchange.urls["api"], base)
    stray = [u for u in _all_urls(exchange.urls["api"]) if not u.startswith(base)]
    assert not stray, f"URLs not pointing at the simulator: {stray}"
    return exchange


def ccxt_binance(key: str, secret: str, **extra_options):
    options = {
        "fetchMarkets": {"types": ["spot"]},  # not linear/inverse: no /fapi, /dapi exchangeInfo
        "fetchCurrencies": False,  # no /sapi/v1/capital/config/getall
        "fetchMargins": False,  # no /sapi/v1/margin/allPairs, /sapi/v1/margin/isolated/allPairs
        "adjustForTimeDifference": False,  # no /api/v3/time; nonce() = now - timeDifference
    }
    options.update(extra_options)
    return _ccxt(ccxt.binance, BINANCE_URL, key, secret, options)


def ccxt_mexc(key: str, secret: str, **extra_options):
    options = {"adjustForTimeDifference": False}  # no /api/v3/time; nonce() = now - timeDifference
    options.update(extra_options)
    return _ccxt(ccxt.mexc, MEXC_URL, key, secret, options)


def connector(key: str, secret: str) -> Spot:
    return Spot(api_key=key, api_secret=secret, base_url=BINANCE_URL, timeout=10)


def _connector_balances(client: Spot) -> dict:
    account = client.account()
    assert isinstance(account.get("balances"), list), f"account reply: {account!r}"
    return {b["asset"]: (D(b["free"]), D(b["locked"])) for b in account["balances"]}


def _ccxt_balances(exchange) -> dict:
    balance = exchange.fetch_balance()
    return {
        code: (D(entry.get("free") or 0), D(entry.get("used") or 0))
        for code, entry in balance.items()
        if isinstance(entry, dict) and code not in ("info", "free", "used", "total")
    }


def _assert_market_fill_moved_balances(before: dict, after: dict, spent_usdt: Decimal) -> None:
    """A 0.01 BTC market buy: BTC up by 0.01 (less a base-asset fee), USDT down by the cost
    (plus a quote-asset fee), and nothing left locked."""
    btc_gain = after["BTC"][0] - before["BTC"][0]
    usdt_loss = before["USDT"][0] - after["USDT"][0]
    assert D(QTY) * (1 - MAX_FEE) <= btc_gain <= D(QTY), f"BTC moved by {btc_gain}: {before} -> {after}"
    assert spent_usdt <= usdt_loss <= spent_usdt * (1 + MAX_FEE), f"USDT moved by {usdt_loss}: {before} -> {after}"
    assert after["USDT"][1] == 0 and after["BTC"][1] == 0, f"still locked after a fill: {after}"


def _assert_cost_near_price(cost: Decimal) -> None:
    expected = D(QTY) * PRICE
    assert expected * D("0.99") <= cost <= expected * D("1.01"), f"0.01 BTC cost {cost}, price is {PRICE}"


# =========================================================================== Binance: binance-connector


def test_binance_connector_exchange_info(binance_sim):
    info = connector(None, None).exchange_info()
    symbols = {s["symbol"]: s for s in info["symbols"]}
    for symbol in SYMBOLS:
        assert symbol in symbols, f"{symbol} missing from exchangeInfo: {sorted(symbols)}"
        assert symbols[symbol]["status"] == "TRADING"
    btc = symbols["BTCUSDT"]
    assert (btc["baseAsset"], btc["quoteAsset"]) == ("BTC", "USDT")
    assert {"LIMIT", "MARKET"} <= set(btc["orderTypes"])
    filters = {f["filterType"] for f in btc["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE"} <= filters, f"filters: {filters}"
    assert isinstance(info["serverTime"], int)


def test_binance_connector_account_balance(binance_sim, binance_account):
    key, secret = binance_account
    balances = _connector_balances(connector(key, secret))
    assert balances["USDT"] == (START_USDT, 0), balances
    assert balances["BTC"] == (START_BTC, 0), balances


def test_binance_connector_order_lifecycle(binance_sim, binance_account):
    key, secret = binance_account
    client = connector(key, secret)

    placed = client.new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity=QTY, price=LIMIT_PRICE
    )
    assert placed["status"] == "NEW", placed
    assert placed["symbol"] == "BTCUSDT" and placed["side"] == "BUY" and placed["type"] == "LIMIT"
    order_id = placed["orderId"]
    assert isinstance(order_id, int), placed
    assert placed["clientOrderId"], "the exchange generates a clientOrderId when none is sent"

    queried = client.get_order("BTCUSDT", orderId=order_id)
    assert queried["orderId"] == order_id and queried["status"] == "NEW", queried
    assert D(queried["price"]) == D(LIMIT_PRICE) and D(queried["origQty"]) == D(QTY), queried
    assert D(queried["executedQty"]) == 0, queried

    resting = _connector_balances(client)
    assert resting["USDT"] == (START_USDT - D(QTY) * D(LIMIT_PRICE), D(QTY) * D(LIMIT_PRICE)), (
        f"a resting BUY locks price*qty USDT: {resting}"
    )

    cancelled = client.cancel_order("BTCUSDT", orderId=order_id)
    assert cancelled["status"] == "CANCELED" and cancelled["orderId"] == order_id, cancelled
    assert client.get_order("BTCUSDT", orderId=order_id)["status"] == "CANCELED"

    before = _connector_balances(client)
    assert before["USDT"] == (START_USDT, 0), f"cancel releases the lock: {before}"

    market = client.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=QTY)
    assert market["status"] == "FILLED", market
    assert D(market["executedQty"]) == D(QTY), market
    spent = D(market["cummulativeQuoteQty"])
    _assert_cost_near_price(spent)
    assert client.get_order("BTCUSDT", orderId=market["orderId"])["status"] == "FILLED"

    _assert_market_fill_moved_balances(before, _connector_balances(client), spent)
    _assert_recorded(binance_sim, key, [order_id, market["orderId"]])


def test_binance_connector_bad_signature(binance_sim, binance_account):
    key, secret = binance_account
    bad = connector(key, _wrong_secret(secret))

    with pytest.raises(ClientError) as caught:
        bad.account()
    assert caught.value.error_code == -1022, vars(caught.value)
    assert caught.value.status_code == 400, vars(caught.value)

    with pytest.raises(ClientError) as caught:
        bad.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=QTY)
    assert caught.value.error_code == -1022, vars(caught.value)

    assert binance_sim.orders(key) == [], "a request with a bad signature must not place an order"
    assert _connector_balances(connector(key, secret))["USDT"] == (START_USDT, 0)  # same key, right secret


def test_binance_connector_stale_timestamp(binance_sim, binance_account, monkeypatch):
    key, secret = binance_account
    client = connector(key, secret)
    real_timestamp = binance.api.get_timestamp
    # Test-only clock shift: sign_request reads binance.api.get_timestamp(); its signing is unchanged.
    monkeypatch.setattr(binance.api, "get_timestamp", lambda: real_timestamp() - STALE_MS)

    with pytest.raises(ClientError) as caught:
        client.account()
    assert caught.value.error_code == -1021, vars(caught.value)

    with pytest.raises(ClientError) as caught:
        client.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=QTY)
    assert caught.value.error_code == -1021, vars(caught.value)

    monkeypatch.undo()
    assert binance_sim.orders(key) == [], "a request with a stale timestamp must not place an order"
    assert _connector_balances(client)["USDT"] == (START_USDT, 0)  # same client, current clock


# =========================================================================== Binance: CCXT


def test_ccxt_binance_load_markets(binance_sim, binance_account):
    exchange = ccxt_binance(*binance_account)
    markets = exchange.load_markets()
    for market_id, symbol in SYMBOLS.items():
        assert symbol in markets, f"{symbol} missing: {sorted(markets)}"
        market = markets[symbol]
        assert market["id"] == market_id and market["spot"] is True and market["active"] is True, market
    btc = markets["BTC/USDT"]
    assert btc["precision"]["amount"] is not None and btc["precision"]["price"] is not None, btc["precision"]


def test_ccxt_binance_fetch_balance(binance_sim, binance_account):
    balance = ccxt_binance(*binance_account).fetch_balance()
    assert D(balance["USDT"]["free"]) == START_USDT, balance["USDT"]
    assert D(balance["USDT"]["total"]) == START_USDT, balance["USDT"]
    assert D(balance["BTC"]["free"]) == START_BTC, balance["BTC"]


def test_ccxt_binance_order_lifecycle(binance_sim, binance_account):
    key, secret = binance_account
    exchange = ccxt_binance(key, secret)

    placed = exchange.create_order("BTC/USDT", "limit", "buy", float(QTY), float(LIMIT_PRICE))
    assert placed["status"] == "open", placed["info"]
    assert placed["clientOrderId"] and placed["clientOrderId"].startswith("x-"), placed["info"]
    order_id = placed["id"]

    queried = exchange.fetch_order(order_id, "BTC/USDT")
    assert queried["id"] == order_id and queried["status"] == "open", queried["info"]
    assert queried["clientOrderId"] == placed["clientOrderId"], "the exchange must keep the sent newClientOrderId"
    assert D(queried["price"]) == D(LIMIT_PRICE) and D(queried["amount"]) == D(QTY), queried["info"]

    resting = _ccxt_balances(exchange)
    assert resting["USDT"] == (START_USDT - D(QTY) * D(LIMIT_PRICE), D(QTY) * D(LIMIT_PRICE)), (
        f"a resting BUY locks price*qty USDT: {resting}"
    )

    cancelled = exchange.cancel_order(order_id, "BTC/USDT")
    assert cancelled["status"] == "canceled", cancelled["info"]
    assert exchange.fetch_order(order_id, "BTC/USDT")["status"] == "canceled"

    before = _ccxt_balances(exchange)
    assert before["USDT"] == (START_USDT, 0), f"cancel releases the lock: {before}"

    market = exchange.create_order("BTC/USDT", "market", "buy", float(QTY))
    assert market["status"] == "closed", market["info"]
    assert D(market["filled"]) == D(QTY), market["info"]
    spent = D(market["info"]["cummulativeQuoteQty"])
    _assert_cost_near_price(spent)
    assert exchange.fetch_order(market["id"], "BTC/USDT")["status"] == "closed"

    _assert_market_fill_moved_balances(before, _ccxt_balances(exchange), spent)
    _assert_recorded(binance_sim, key, [order_id, market["id"]])


def test_ccxt_binance_bad_signature(binance_sim, binance_account):
    key, secret = binance_account
    bad = ccxt_binance(key, _wrong_secret(secret))

    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        bad.fetch_balance()  # load_markets is public here, so this is GET /api/v3/account
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        bad.create_order("BTC/USDT", "market", "buy", float(QTY))

    assert binance_sim.orders(key) == [], "a request with a bad signature must not place an order"
    assert D(ccxt_binance(key, secret).fetch_balance()["USDT"]["free"]) == START_USDT


def test_ccxt_binance_stale_timestamp(binance_sim, binance_account):
    key, secret = binance_account
    # Configuration only: binance.nonce() = milliseconds() - options['timeDifference'].
    stale = ccxt_binance(key, secret, timeDifference=STALE_MS)

    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        stale.fetch_balance()
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        stale.create_order("BTC/USDT", "market", "buy", float(QTY))

    assert binance_sim.orders(key) == [], "a request with a stale timestamp must not place an order"
    assert D(ccxt_binance(key, secret).fetch_balance()["USDT"]["free"]) == START_USDT


# =========================================================================== MEXC: CCXT


def test_ccxt_mexc_load_markets(mexc_sim, mexc_account):
    exchange = ccxt_mexc(*mexc_account)
    markets = exchange.load_markets()  # exchangeInfo, contract/detail, signed capital/config/getall
    for market_id, symbol in SYMBOLS.items():
        assert symbol in markets, f"{symbol} missing: {sorted(markets)}"
        market = markets[symbol]
        # ccxt: active = status == "1" and isSpotTradingAllowed
        assert market["id"] == market_id and market["spot"] is True and market["active"] is True, market["info"]
    btc = markets["BTC/USDT"]
    assert btc["precision"]["amount"] is not None and btc["precision"]["price"] is not None, btc["info"]


def test_ccxt_mexc_fetch_balance(mexc_sim, mexc_account):
    balance = ccxt_mexc(*mexc_account).fetch_balance()
    assert D(balance["USDT"]["free"]) == START_USDT, balance["USDT"]
    assert D(balance["USDT"]["total"]) == START_USDT, balance["USDT"]
    assert D(balance["BTC"]["free"]) == START_BTC, balance["BTC"]


def test_ccxt_mexc_order_lifecycle(mexc_sim, mexc_account):
    key, secret = mexc_account
    exchange = ccxt_mexc(key, secret)

    placed = exchange.create_order("BTC/USDT", "limit", "buy", float(QTY), float(LIMIT_PRICE))
    order_id = placed["id"]
    assert isinstance(placed["info"].get("orderId"), str), f"MEXC order ids are strings: {placed['info']}"

    queried = exchange.fetch_order(order_id, "BTC/USDT")
    assert queried["id"] == order_id and queried["status"] == "open", queried["info"]
    assert D(queried["price"]) == D(LIMIT_PRICE) and D(queried["amount"]) == D(QTY), queried["info"]

    resting = _ccxt_balances(exchange)
    assert resting["USDT"] == (START_USDT - D(QTY) * D(LIMIT_PRICE), D(QTY) * D(LIMIT_PRICE)), (
        f"a resting BUY locks price*qty USDT: {resting}"
    )

    cancelled = exchange.cancel_order(order_id, "BTC/USDT")
    assert cancelled["status"] == "canceled", cancelled["info"]
    assert exchange.fetch_order(order_id, "BTC/USDT")["status"] == "canceled"

    before = _ccxt_balances(exchange)
    assert before["USDT"] == (START_USDT, 0), f"cancel releases the lock: {before}"

    market = exchange.create_order("BTC/USDT", "market", "buy", float(QTY))
    filled = exchange.fetch_order(market["id"], "BTC/USDT")  # the POST reply has no status on MEXC
    assert filled["status"] == "closed", filled["info"]
    assert D(filled["filled"]) == D(QTY), filled["info"]
    spent = D(filled["info"]["cummulativeQuoteQty"])
    _assert_cost_near_price(spent)

    _assert_market_fill_moved_balances(before, _ccxt_balances(exchange), spent)
    _assert_recorded(mexc_sim, key, [order_id, market["id"]])


def _mexc_sharing_markets(key: str, secret: str, client_secret: str, **options):
    """(client, good): `good` is correctly signed and loads the markets; `client` (signing
    with `client_secret` and `options`) reuses them, so its first request is the endpoint
    under test rather than load_markets' own signed capital/config/getall."""
    good = ccxt_mexc(key, secret)
    good.load_markets()
    client = ccxt_mexc(key, client_secret, **options)
    client.set_markets_from_exchange(good)
    return client, good


def test_ccxt_mexc_bad_signature(mexc_sim, mexc_account):
    key, secret = mexc_account
    bad, good = _mexc_sharing_markets(key, secret, _wrong_secret(secret))

    with pytest.raises(ccxt.AuthenticationError, match="700002"):
        bad.fetch_balance()  # GET /api/v3/account
    with pytest.raises(ccxt.AuthenticationError, match="700002"):
        bad.create_order("BTC/USDT", "market", "buy", float(QTY))  # POST /api/v3/order
    with pytest.raises(ccxt.AuthenticationError, match="700002"):
        ccxt_mexc(key, _wrong_secret(secret)).load_markets()  # signed GET /api/v3/capital/config/getall

    assert mexc_sim.orders(key) == [], "a request with a bad signature must not place an order"
    assert D(good.fetch_balance()["USDT"]["free"]) == START_USDT


def test_ccxt_mexc_stale_timestamp(mexc_sim, mexc_account):
    key, secret = mexc_account
    # Configuration only: mexc.nonce() = milliseconds() - options['timeDifference'].
    stale, good = _mexc_sharing_markets(key, secret, secret, timeDifference=STALE_MS)

    with pytest.raises(ccxt.InvalidNonce, match="700003"):
        stale.fetch_balance()
    with pytest.raises(ccxt.InvalidNonce, match="700003"):
        stale.create_order("BTC/USDT", "market", "buy", float(QTY))

    assert mexc_sim.orders(key) == [], "a request with a stale timestamp must not place an order"
    assert D(good.fetch_balance()["USDT"]["free"]) == START_USDT
