import Core
import Exchange
import Testing

@Suite struct ExchangeErrorMappingTests {
    func binance(_ status: Int, _ code: Int?, _ msg: String = "", placement: Bool = false, retryAfter: Int? = nil) -> ExchangeError {
        ExchangeErrorMapping.map(exchange: .binance, status: status, code: code, message: msg, retryAfter: retryAfter, isOrderPlacement: placement)
    }

    func mexc(_ status: Int, _ code: Int?, _ msg: String = "", placement: Bool = false) -> ExchangeError {
        ExchangeErrorMapping.map(exchange: .mexc, status: status, code: code, message: msg, retryAfter: nil, isOrderPlacement: placement)
    }

    @Test func binanceCodes() {
        #expect(binance(400, -1022) == .invalidCredentials(code: -1022, message: ""))
        #expect(binance(401, -2015, "Invalid API-key, IP, or permissions for action.") == .invalidCredentials(code: -2015, message: "Invalid API-key, IP, or permissions for action."))
        #expect(binance(400, -1021) == .timestampOutsideRecvWindow)
        #expect(binance(400, -2010, "Account has insufficient balance for requested action.") == .insufficientBalance("Account has insufficient balance for requested action."))
        #expect(binance(400, -2010, "Duplicate order sent.") == .duplicateOrder)
        #expect(binance(400, -1013, "Filter failure: NOTIONAL") == .belowMinimum("Filter failure: NOTIONAL"))
        #expect(binance(400, -1013, "Filter failure: PRICE_FILTER") == .filterRejected("Filter failure: PRICE_FILTER"))
        #expect(binance(400, -1121) == .invalidSymbol(""))
        #expect(binance(400, -2013) == .orderNotFound)
        #expect(binance(400, -2011) == .orderNotFound)
    }

    @Test func ambiguousFailuresAreOutcomeUnknownOnlyForPlacement() {
        #expect(binance(500, -1007, placement: true) == .outcomeUnknown("HTTP 500"))
        #expect(binance(500, -1007, placement: false) == .unavailable("HTTP 500"))
        #expect(binance(400, -1000, "x", placement: true) == .outcomeUnknown("-1000 x"))
        #expect(binance(503, nil, placement: true) == .outcomeUnknown("HTTP 503"))
        #expect(mexc(504, 504, placement: true) == .outcomeUnknown("HTTP 504"))
    }

    @Test func firewall403IsNotACredentialProblem() {
        #expect(binance(403, nil, "<html>") == .unavailable("blocked by the exchange's firewall (HTTP 403)"))
        #expect(mexc(403, nil) == .unavailable("blocked by the exchange's firewall (HTTP 403)"))
        #expect(mexc(400, -2010, "Duplicate order sent.") == .duplicateOrder)
    }

    @Test func rateLimitsCarryRetryAfterAndBan() {
        #expect(binance(429, -1003, retryAfter: 12) == .rateLimited(retryAfterSeconds: 12, banned: false))
        #expect(binance(418, -1003, retryAfter: 120) == .rateLimited(retryAfterSeconds: 120, banned: true))
        #expect(ExchangeError.rateLimited(retryAfterSeconds: 12, banned: false).apiError.headers["Retry-After"] == "12")
    }

    /// The request weight is per address (the engine pauses the exchange for everyone); Binance's order-count
    /// limit (-1015, also a 429) is one account's, and must not pause the others.
    @Test func anAccountsOrderLimitIsNotTheAddresssLimit() {
        #expect(binance(429, -1015, "Too many new orders; current limit is 50.", retryAfter: 10) == .orderRateLimited(retryAfterSeconds: 10))
        #expect(binance(400, -1015) == .orderRateLimited(retryAfterSeconds: nil))
        #expect(binance(429, nil, retryAfter: 5) == .rateLimited(retryAfterSeconds: 5, banned: false))
        #expect(mexc(429, 429) == .rateLimited(retryAfterSeconds: nil, banned: false))
        #expect(ExchangeError.orderRateLimited(retryAfterSeconds: 10).isSafeToRetry)
        #expect(ExchangeError.orderRateLimited(retryAfterSeconds: 10).apiError.headers["Retry-After"] == "10")
    }

    @Test func mexcCodes() {
        #expect(mexc(400, 700002) == .invalidCredentials(code: 700002, message: ""))
        #expect(mexc(400, 10072) == .invalidCredentials(code: 10072, message: ""))
        #expect(mexc(403, 700007, "No permission") == .insufficientPermissions("No permission"))
        #expect(mexc(400, 700003) == .timestampOutsideRecvWindow)
        #expect(mexc(400, 10101, "Insufficient balance") == .insufficientBalance("Insufficient balance"))
        #expect(mexc(400, 30004, "Insufficient position") == .insufficientBalance("Insufficient position"))
        #expect(mexc(400, 30002, "min") == .belowMinimum("min"))
        #expect(mexc(400, -2013) == .orderNotFound)
    }

    @Test func contractCodes() {
        #expect(ExchangeError.invalidCredentials(code: 1, message: "").errorCode == .invalidCredentials)
        #expect(ExchangeError.insufficientPermissions("").errorCode == .insufficientPermissions)
        #expect(ExchangeError.rateLimited(retryAfterSeconds: nil, banned: false).errorCode == .rateLimited)
        #expect(ExchangeError.unavailable("").errorCode == .exchangeUnavailable)
        #expect(ExchangeError.insufficientBalance("").errorCode == .insufficientBalance)
        #expect(ExchangeError.belowMinimum("").errorCode == .belowMinimumOrder)
        #expect(ExchangeError.rateLimited(retryAfterSeconds: 1, banned: false).isSafeToRetry)
        #expect(!ExchangeError.outcomeUnknown("").isSafeToRetry)
    }

    @Test func statusWords() {
        #expect(ExchangeOrderStatus(exchangeText: "PARTIALLY_CANCELED") == .cancelled)
        #expect(ExchangeOrderStatus(exchangeText: "EXPIRED_IN_MATCH") == .expired)
        #expect(ExchangeOrderStatus(exchangeText: "PENDING_NEW") == .new)
        #expect(ExchangeOrderStatus(exchangeText: "WHATEVER") == nil)
        #expect(ExchangeOrderStatus.filled.isFinal && !ExchangeOrderStatus.partiallyFilled.isFinal)
    }
}

@Suite struct ExchangeEnvironmentTests {
    @Test func simulatorByDefault() throws {
        let env = try ExchangeEnvironment.fromConfig(Config(environment: [:]))
        #expect(env.kind == .simulator)
        #expect(env.binanceBaseURL == "http://127.0.0.1:9101")
        #expect(env.mexcBaseURL == "http://127.0.0.1:9102")
    }

    @Test func productionNeedsTheOptIn() throws {
        #expect(throws: ConfigError.self) { try ExchangeEnvironment.fromConfig(Config(environment: ["EXCHANGE_ENV": "production"])) }
        #expect(throws: ConfigError.self) {
            try ExchangeEnvironment.fromConfig(Config(environment: ["BINANCE_BASE_URL": "https://api.binance.com"]))
        }
        let env = try ExchangeEnvironment.fromConfig(Config(environment: ["EXCHANGE_ENV": "production", "EXCHANGE_ALLOW_PRODUCTION": "true"]))
        #expect(env.binanceBaseURL == "https://api.binance.com" && env.mexcBaseURL == "https://api.mexc.com")
    }

    @Test func productionHostsAreRecognisedByHost() {
        #expect(ExchangeEnvironment.isProduction(url: "https://api.binance.com"))
        #expect(ExchangeEnvironment.isProduction(url: "https://x@api.binance.com/api"))
        #expect(ExchangeEnvironment.isProduction(url: "https://api.mexc.com"))
        #expect(ExchangeEnvironment.isProduction(url: "not a url"))
        #expect(!ExchangeEnvironment.isProduction(url: "http://127.0.0.1:9101"))
        #expect(!ExchangeEnvironment.isProduction(url: "https://testnet.binance.vision"))
    }

    /// However an adapter is built, a production host without the opt-in fails before anything is sent.
    @Test func adaptersRefuseProductionWithoutTheOptIn() {
        let credentials = ExchangeCredentials(apiKey: Secret("k"), apiSecret: Secret("s"))
        for adapter: any ExchangeAdapter in [BinanceAdapter(baseURL: "https://x@api.binance.com", credentials: credentials),
                                             MEXCAdapter(baseURL: "https://api.mexc.com", credentials: credentials)] {
            #expect(throws: ExchangeError.productionNotAllowed) { try adapter.tickerPrice("BTCUSDT") }
        }
    }

    @Test func testnet() throws {
        let env = try ExchangeEnvironment.fromConfig(Config(environment: ["EXCHANGE_ENV": "testnet"]))
        #expect(env.binanceBaseURL == "https://testnet.binance.vision")
        #expect(!env.pointsAtProduction)
    }

    @Test func symbolsAndClientIDs() {
        #expect(SymbolMapping.exchangeSymbol(for: "BTC/USDT", on: .binance) == "BTCUSDT")
        #expect(SymbolMapping.exchangeSymbol(for: "btc/usdt", on: .mexc) == nil)
        #expect(SymbolMapping.exchangeSymbol(for: "BTCUSDT", on: .mexc) == nil)
        #expect(OrderRequest.isValidClientOrderId("sb-0123456789abcdef_x"))
        #expect(!OrderRequest.isValidClientOrderId("has.dot"))
        #expect(!OrderRequest.isValidClientOrderId(String(repeating: "a", count: 33)))
    }
}
