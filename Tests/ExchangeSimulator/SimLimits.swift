import Foundation

/// Request-weight and order-count limits (Binance semantics; MEXC uses the same machinery with its own numbers).
/// A client that keeps sending after a 429 within the same window is banned: 418 with `Retry-After`.
struct SimLimits {
    var weightPerMinute = 6000
    var ordersPer10s = 100
    var ordersPerDay = 200_000
    var banSeconds = 120

    private var weightWindow: [String: (minute: Int, used: Int, warned: Bool)] = [:]
    private var bans: [String: Date] = [:]
    private var orderWindows: [Int: (tenSeconds: Int, count: Int, day: Int, dayCount: Int)] = [:]

    init() {}

    mutating func reset() { self = SimLimits() }

    /// Forgets the weight used in the current window, its 429 warnings and every ban (a test starting clean).
    mutating func freshWindow() {
        weightWindow = [:]
        bans = [:]
    }

    enum Verdict { case ok(used: Int), limited(retryAfter: Int), banned(until: Date) }

    /// Charges `weight` to `ip` and says whether the request may proceed.
    mutating func charge(ip: String, weight: Int, now: Date = Date()) -> Verdict {
        if let until = bans[ip] {
            if until > now { return .banned(until: until) }
            bans[ip] = nil
        }
        let minute = Int(now.timeIntervalSince1970) / 60
        var w = weightWindow[ip] ?? (minute, 0, false)
        if w.minute != minute { w = (minute, 0, false) }
        w.used += weight
        defer { weightWindow[ip] = w }
        if w.used > weightPerMinute {
            if w.warned {
                let until = now.addingTimeInterval(Double(banSeconds))
                bans[ip] = until
                return .banned(until: until)
            }
            w.warned = true
            return .limited(retryAfter: 60 - Int(now.timeIntervalSince1970) % 60)
        }
        return .ok(used: w.used)
    }

    func used(ip: String, now: Date = Date()) -> Int {
        guard let w = weightWindow[ip], w.minute == Int(now.timeIntervalSince1970) / 60 else { return 0 }
        return w.used
    }

    /// Counts a new order for `account`; nil when allowed, else the limit that was hit.
    mutating func countOrder(account: Int, now: Date = Date()) -> (count10s: Int, countDay: Int, exceeded: String?) {
        let t = Int(now.timeIntervalSince1970)
        var o = orderWindows[account] ?? (t / 10, 0, t / 86400, 0)
        if o.tenSeconds != t / 10 { o.tenSeconds = t / 10; o.count = 0 }
        if o.day != t / 86400 { o.day = t / 86400; o.dayCount = 0 }
        if o.count >= ordersPer10s {
            orderWindows[account] = o
            return (o.count, o.dayCount, "\(ordersPer10s) orders per 10 SECOND")
        }
        if o.dayCount >= ordersPerDay {
            orderWindows[account] = o
            return (o.count, o.dayCount, "\(ordersPerDay) orders per 1 DAY")
        }
        o.count += 1
        o.dayCount += 1
        orderWindows[account] = o
        return (o.count, o.dayCount, nil)
    }
}
