import Foundation

/// Quantities and prices as base-10 decimals (Foundation's `Decimal`, 38 significant digits), parsed from and
/// formatted to text without ever passing through binary floating point.
public enum ExactDecimal {
    private static let posix = Locale(identifier: "en_US_POSIX")

    /// Parses `"0.00100000"`, `"5"`, `"-1.5"`. Rejects exponents, spaces, empty strings and anything else.
    public static func parse(_ text: String) -> Decimal? {
        guard !text.isEmpty, text.utf8.count <= 60 else { return nil }
        var sawDigit = false, sawDot = false
        for (i, b) in text.utf8.enumerated() {
            switch b {
            case 48...57: sawDigit = true
            case 46: if sawDot { return nil } else { sawDot = true }
            case 45 where i == 0: continue
            default: return nil
            }
        }
        guard sawDigit else { return nil }
        return Decimal(string: text, locale: posix)
    }

    /// Plain notation, no exponent, no trailing zeros (`0.001`, `50000`).
    public static func text(_ value: Decimal) -> String {
        var v = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &v, 30, .plain)
        return rounded.description
    }

    /// Exactly `places` decimals (`0.10000000`), rounding half-even when more precision is present.
    public static func text(_ value: Decimal, places: Int) -> String {
        var v = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &v, places, .bankers)
        var s = rounded.description
        guard places > 0 else { return s }
        if let dot = s.firstIndex(of: ".") {
            let have = s.distance(from: s.index(after: dot), to: s.endIndex)
            if have < places { s += String(repeating: "0", count: places - have) }
        } else {
            s += "." + String(repeating: "0", count: places)
        }
        return s
    }

    /// The largest multiple of `step` that is ≤ `value` (for value ≥ 0). A zero step leaves the value as is.
    public static func floor(_ value: Decimal, step: Decimal) -> Decimal {
        guard step > 0 else { return value }
        var quotient = value / step
        var whole = Decimal()
        NSDecimalRound(&whole, &quotient, 0, .down)
        return whole * step
    }

    /// The smallest multiple of `step` that is ≥ `value`.
    public static func ceil(_ value: Decimal, step: Decimal) -> Decimal {
        guard step > 0 else { return value }
        var quotient = value / step
        var whole = Decimal()
        NSDecimalRound(&whole, &quotient, 0, .up)
        return whole * step
    }

    /// True when `value` is a whole multiple of `step` (a zero step accepts anything).
    public static func isMultiple(_ value: Decimal, of step: Decimal) -> Bool {
        guard step > 0 else { return true }
        return floor(value, step: step) == value
    }

    /// Number of decimals in a step such as `0.00100000` → 3.
    public static func places(ofStep step: Decimal) -> Int {
        guard step > 0 else { return 0 }
        var places = 0
        var s = step
        while !isMultiple(s, of: 1) && places < 30 {
            s *= 10
            places += 1
        }
        return places
    }
}
