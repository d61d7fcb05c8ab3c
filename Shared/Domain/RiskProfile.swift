import Foundation

/// How much of the relevant balance one trade may risk (seed RN-U03): conservative 1 %, moderate 2 %,
/// aggressive 5 %. Also the ceiling for a user's stop-loss (US-02).
public enum RiskProfile: String, Sendable, Codable, CaseIterable {
    case conservative, moderate, aggressive

    public var maxPerTradePct: Decimal {
        switch self {
        case .conservative: Decimal(string: "0.01")!
        case .moderate: Decimal(string: "0.02")!
        case .aggressive: Decimal(string: "0.05")!
        }
    }
}

/// Subscription tiers and what they allow (RN-U01, RN-U02).
public enum SubscriptionTier: String, Sendable, Codable, CaseIterable {
    case free, pro, enterprise

    /// FREE: at most 5 trades a day, whatever the user's own setting.
    public var dailyTradeCap: Int? { self == .free ? 5 : nil }
    /// FREE: one connected exchange.
    public var maxExchanges: Int { self == .free ? 1 : 2 }
}

public enum UserRole: String, Sendable, Codable {
    case user, admin
}
