/// Request ids: a caller's `X-Request-ID` is kept when it is 1–128 characters of `[A-Za-z0-9._:-]`,
/// otherwise a random 32-hex-digit id is made (the same shape as nginx's `$request_id`).
public enum RequestID {
    public static func accept(_ incoming: String?) -> String? {
        guard let incoming, (1...128).contains(incoming.utf8.count) else { return nil }
        for b in incoming.utf8 {
            let ok = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
                || b == 46 || b == 95 || b == 58 || b == 45
            if !ok { return nil }
        }
        return incoming
    }

    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for _ in 0..<2 {
            var v = rng.next() as UInt64
            for _ in 0..<16 {
                out.append(hex[Int(v & 0xf)])
                v >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func make(from incoming: String?) -> String { accept(incoming) ?? generate() }
}
