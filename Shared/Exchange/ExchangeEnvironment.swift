import Core
import Foundation

/// Where the adapters send requests: the local simulator (default), the exchanges' test networks, or
/// production — which is refused unless `EXCHANGE_ALLOW_PRODUCTION=true`.
public struct ExchangeEnvironment: Sendable, Equatable {
    public enum Kind: String, Sendable { case simulator, testnet, production }

    public let kind: Kind
    public let binanceBaseURL: String
    public let mexcBaseURL: String

    static let productionHosts = ["api.binance.com", "api1.binance.com", "api2.binance.com", "api3.binance.com",
                                  "api4.binance.com", "api-gcp.binance.com", "api.mexc.com"]

    /// From `EXCHANGE_ENV`, `BINANCE_BASE_URL`, `MEXC_BASE_URL`, `SIM_BINANCE_PORT`, `SIM_MEXC_PORT` and
    /// `EXCHANGE_ALLOW_PRODUCTION`.
    public static func fromConfig(_ config: Config) throws(ConfigError) -> ExchangeEnvironment {
        let kind = Kind(rawValue: try config.choice("EXCHANGE_ENV", default: "simulator", allowed: ["simulator", "testnet", "production"]))!
        let allowProduction = try config.bool("EXCHANGE_ALLOW_PRODUCTION", default: false)
        let binancePort = try config.int("SIM_BINANCE_PORT", default: 9101, range: 1...65535)
        let mexcPort = try config.int("SIM_MEXC_PORT", default: 9102, range: 1...65535)
        let defaults: (String, String)
        switch kind {
        case .simulator: defaults = ("http://127.0.0.1:\(binancePort)", "http://127.0.0.1:\(mexcPort)")
        // MEXC has no public spot testnet: testnet runs keep MEXC on the simulator unless MEXC_BASE_URL says otherwise.
        case .testnet: defaults = ("https://testnet.binance.vision", "http://127.0.0.1:\(mexcPort)")
        case .production: defaults = ("https://api.binance.com", "https://api.mexc.com")
        }
        let env = ExchangeEnvironment(kind: kind, binanceBaseURL: config.string("BINANCE_BASE_URL", default: defaults.0),
                                      mexcBaseURL: config.string("MEXC_BASE_URL", default: defaults.1))
        if !allowProduction, kind == .production || env.pointsAtProduction {
            throw ConfigError(variable: "EXCHANGE_ALLOW_PRODUCTION",
                              reason: "must be true to send orders to production exchange URLs")
        }
        return env
    }

    public init(kind: Kind, binanceBaseURL: String, mexcBaseURL: String) {
        self.kind = kind
        self.binanceBaseURL = binanceBaseURL
        self.mexcBaseURL = mexcBaseURL
    }

    /// True when either base URL names a production host.
    public var pointsAtProduction: Bool {
        ExchangeEnvironment.isProduction(url: binanceBaseURL) || ExchangeEnvironment.isProduction(url: mexcBaseURL)
    }

    /// Whether the URL's host (parsed, so `https://x@api.binance.com` counts) is a production exchange host.
    /// An unparseable URL counts as production: refuse rather than guess.
    public static func isProduction(url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased(), !host.isEmpty else { return true }
        return productionHosts.contains(host) || host.hasSuffix(".binance.com") || host.hasSuffix(".mexc.com")
    }

    public func baseURL(for exchange: ExchangeName) -> String {
        exchange == .binance ? binanceBaseURL : mexcBaseURL
    }
}
