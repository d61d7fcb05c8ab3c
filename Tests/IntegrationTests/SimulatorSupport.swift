import Core
import Exchange
import Foundation
import HTTPClient
import Testing

/// Drives the exchange simulator's control API (`/_sim/…`) for adapter tests.
struct Simulator {
    let exchange: ExchangeName

    var baseURL: String { Stack.env(exchange == .binance ? "SIM_BINANCE_URL" : "SIM_MEXC_URL") }

    @discardableResult
    func control(_ method: String, _ path: String, _ body: JSONValue? = nil) throws -> HTTPResponse {
        let response = try HTTPClient().send(HTTPRequest(
            method: method, url: baseURL + path, headers: [("Content-Type", "application/json")],
            body: body.map { Array($0.jsonText.utf8) } ?? [], timeout: 10))
        guard (200..<300).contains(response.status) else { throw TestFailure("control \(method) \(path): \(response.status) \(response.text)") }
        return response
    }

    func reset() throws { try control("POST", "/_sim/reset") }

    /// A fresh account with its own key; returns an adapter for it.
    func account(balances: [String: String] = ["USDT": "10000", "BTC": "1"], canTrade: Bool = true, canWithdraw: Bool = false,
                 timeout: Double = 10) throws -> (any ExchangeAdapter, apiKey: String) {
        let apiKey = "k" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let secret = "s" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        try control("POST", "/_sim/accounts", [
            "api_key": .string(apiKey), "api_secret": .string(secret), "can_trade": .bool(canTrade),
            "can_withdraw": .bool(canWithdraw), "balances": .object(balances.mapValues { .string($0) }),
        ])
        return (adapter(apiKey: apiKey, secret: secret, timeout: timeout), apiKey)
    }

    func adapter(apiKey: String, secret: String, timeout: Double = 10) -> any ExchangeAdapter {
        let credentials = ExchangeCredentials(apiKey: Secret(apiKey), apiSecret: Secret(secret))
        switch exchange {
        case .binance: return BinanceAdapter(baseURL: baseURL, credentials: credentials, timeout: timeout)
        case .mexc: return MEXCAdapter(baseURL: baseURL, credentials: credentials, timeout: timeout)
        }
    }

    func fault(_ kind: String, method: String? = nil, path: String? = nil, count: Int = 1, extra: [String: JSONValue] = [:]) throws {
        var body: [String: JSONValue] = ["kind": .string(kind), "count": .int(count)]
        if let method { body["method"] = .string(method) }
        if let path { body["path"] = .string(path) }
        body.merge(extra) { $1 }
        try control("POST", "/_sim/faults", .object(body))
    }

    func price(_ symbol: String, _ price: String) throws { try control("POST", "/_sim/prices", [symbol: .string(price)]) }
}

func dec(_ text: String) -> Decimal { ExactDecimal.parse(text)! }

func clientID() -> String { "sb-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased() }

/// `#expect` that an exchange call fails with a particular error, matched by a predicate (errors carry messages).
func expectExchangeError<T>(_ body: () throws(ExchangeError) -> T, sourceLocation: SourceLocation = #_sourceLocation,
                            _ matches: (ExchangeError) -> Bool) {
    do {
        let value = try body()
        Issue.record("expected an exchange error, got \(value)", sourceLocation: sourceLocation)
    } catch {
        #expect(matches(error), "got \(error)", sourceLocation: sourceLocation)
    }
}
