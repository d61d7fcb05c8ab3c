import Foundation

/// RFC 3339 timestamps in UTC with millisecond precision (`2026-11-21T10:15:30.123Z`), without Foundation's
/// date formatters (which are slow to create and differ across platforms).
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = millis / 1000
        var ms = millis % 1000
        if ms < 0 { ms += 1000; seconds -= 1 }
        var days = seconds / 86400
        var secOfDay = seconds % 86400
        if secOfDay < 0 { secOfDay += 86400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        if (0...9999).contains(y) {
            // Written digit by digit into one buffer (the padded pieces cost 14 strings per timestamp).
            return String(unsafeUninitializedCapacity: 24) { buf in
                func put(_ value: Int64, _ width: Int, at start: Int) {
                    var v = value
                    for i in stride(from: start + width - 1, through: start, by: -1) {
                        buf[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                        v /= 10
                    }
                }
                put(y, 4, at: 0); buf[4] = 45; put(m, 2, at: 5); buf[7] = 45; put(d, 2, at: 8); buf[10] = 84
                put(secOfDay / 3600, 2, at: 11); buf[13] = 58; put(secOfDay % 3600 / 60, 2, at: 14); buf[16] = 58
                put(secOfDay % 60, 2, at: 17); buf[19] = 46; put(ms, 3, at: 20); buf[23] = 90
                return 24
            }
        }
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secOfDay / 3600, 2) + ":"
            + pad(secOfDay % 3600 / 60, 2) + ":" + pad(secOfDay % 60, 2) + "." + pad(ms, 3) + "Z"
    }

    /// Parses RFC 3339 (`Z` or `±hh:mm` offset, optional fraction) and PostgreSQL's ISO output
    /// (`2026-11-21 10:15:30.123456+00`). Returns nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 19, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58, let mi = num(14, 2),
              b[16] == 58, let s = num(17, 2),
              (1...9999).contains(y), (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        var offset = 0
        if i < b.count, b[i] == 90 || b[i] == 122 {
            i += 1
        } else if i < b.count, b[i] == 43 || b[i] == 45 {
            let sign = b[i] == 43 ? 1 : -1
            guard let oh = num(i + 1, 2) else { return nil }
            i += 3
            var om = 0
            if i < b.count, b[i] == 58 {
                guard let v = num(i + 1, 2) else { return nil }
                om = v
                i += 3
            } else if let v = num(i, 2) {
                om = v
                i += 2
            }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        let secs = Double(days * 86400 + h * 3600 + mi * 60 + s - offset) + fraction
        return Date(timeIntervalSince1970: secs)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func pad(_ v: some BinaryInteger, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // Howard Hinnant's civil-from-days algorithms (proleptic Gregorian calendar).
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
