import Core
import Foundation

/// Settings of the reconciliation (docs/configuration.md).
public struct ReconcileSettings: Sendable {
    /// A live execution whose order the exchange does not show is "missing" only after this long.
    public var missingGrace: TimeInterval
    /// How far back orders are compared (Binance's allOrders spans at most 24 h per call).
    public var lookback: TimeInterval
    /// A run takes no new account after this long (it runs every minute).
    public var maxDuration: TimeInterval
    /// Request weight one run may spend per exchange and egress address. Binance allows 6,000 per minute and
    /// MEXC 500 per 10 s; the defaults leave most of it to order placement.
    public var weightBudget: [String: Int]
    /// Above this share of the exchange's own per-minute weight counter, the run stops calling that exchange.
    public var reportedWeightCeiling: [String: Int]
    /// Weight per 10-second window for exchanges that count that way (MEXC: 500 per 10 s).
    public var perTenSeconds: [String: Int] = ["mexc": 400]

    public init(missingGrace: TimeInterval = 120, lookback: TimeInterval = 86_400, maxDuration: TimeInterval = 45,
                weightBudget: [String: Int] = ["binance": 2400, "mexc": 1200],
                reportedWeightCeiling: [String: Int] = ["binance": 4800, "mexc": 2400]) {
        self.missingGrace = missingGrace
        self.lookback = lookback
        self.maxDuration = maxDuration
        self.weightBudget = weightBudget
        self.reportedWeightCeiling = reportedWeightCeiling
    }

    public static func fromConfig(_ config: Config) throws(ConfigError) -> ReconcileSettings {
        ReconcileSettings(
            missingGrace: TimeInterval(try config.int("RECONCILE_MISSING_GRACE_SECONDS", default: 120, range: 0...86_400)),
            lookback: TimeInterval(try config.int("RECONCILE_LOOKBACK_HOURS", default: 24, range: 1...24)) * 3600,
            maxDuration: TimeInterval(try config.int("RECONCILE_MAX_SECONDS", default: 45, range: 5...100)),  // nginx waits 120 s for POST /run
            weightBudget: ["binance": try config.int("RECONCILE_WEIGHT_BUDGET_BINANCE", default: 2400, range: 50...6000),
                           "mexc": try config.int("RECONCILE_WEIGHT_BUDGET_MEXC", default: 1200, range: 25...3000)])
    }
}

/// The documented request weight of what a reconciliation asks an exchange for one account.
public enum ReconcileCost {
    /// Balances (`/api/v3/account`) plus, per symbol, open orders and all orders.
    public static func account(exchange: String, symbols: Int) -> Int {
        exchange == "binance" ? 20 + symbols * (6 + 20) : 10 + symbols * (3 + 10)
    }

    /// One order status query (`GET /api/v3/order`).
    public static func query(exchange: String) -> Int { exchange == "binance" ? 4 : 2 }
}

/// Client order ids SignalBridge generates start with this (Functions/Webhook/Queries.swift).
public let signalBridgeClientOrderPrefix = "sb"

/// Whether a client order id has exactly the form SignalBridge generates: `sb` + 30 lower-case hex digits.
public func isSignalBridgeClientOrderId(_ id: String) -> Bool {
    let u = Array(id.utf8)
    return u.count == 32 && u[0] == UInt8(ascii: "s") && u[1] == UInt8(ascii: "b")
        && u[2...].allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
}
