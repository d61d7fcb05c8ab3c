import COpenSSL
import Foundation

/// Memory-hard password hashing with OpenSSL's scrypt. Stored as
/// `$scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>` so parameters can be raised later and old hashes
/// still verify. Defaults: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s on this machine), 16-byte salt, 32-byte key.
public struct PasswordHasher: Sendable {
    public let logN: Int
    public let r: Int
    public let p: Int

    public init(logN: Int = 15, r: Int = 8, p: Int = 1) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    public func hash(_ password: String) -> String {
        let salt = SecureRandom.bytes(16)
        let key = PasswordHasher.derive(password, salt: salt, logN: logN, r: r, p: p)!
        return "$scrypt$ln=\(logN),r=\(r),p=\(p)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// True when `password` matches; false for a wrong password or an unreadable stored value.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count == 4, parts[0] == "scrypt" else { return false }
        var params: [String: Int] = [:]
        for kv in parts[1].split(separator: ",") {
            let pair = kv.split(separator: "=")
            if pair.count == 2, let v = Int(pair[1]) { params[String(pair[0])] = v }
        }
        guard let logN = params["ln"], let r = params["r"], let p = params["p"], (10...20).contains(logN), (1...32).contains(r), (1...16).contains(p),
              let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
              let actual = derive(password, salt: Array(salt), logN: logN, r: r, p: p, length: expected.count) else { return false }
        return ConstantTime.equals(actual, Array(expected))
    }

    /// Whether a stored hash uses weaker parameters than this hasher (re-hash it after a successful login).
    public func needsRehash(_ stored: String) -> Bool {
        !stored.hasPrefix("$scrypt$ln=\(logN),r=\(r),p=\(p)$")
    }

    public static func derive(_ password: String, salt: [UInt8], logN: Int, r: Int, p: Int, length: Int = 32) -> [UInt8]? {
        let pass = Array(password.utf8) + [0]
        var key = [UInt8](repeating: 0, count: length)
        let n = UInt64(1) << UInt64(logN)
        let maxMemory = UInt64(129 * r * p) * n + (1 << 20)
        let ok = pass.withUnsafeBufferPointer { pw in
            salt.withUnsafeBufferPointer { s in
                key.withUnsafeMutableBufferPointer { k in
                    pw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pass.count) { pwChars in
                        EVP_PBE_scrypt(pwChars, pass.count - 1, s.baseAddress, s.count, n, UInt64(r), UInt64(p), maxMemory, k.baseAddress, length)
                    }
                }
            }
        }
        return ok == 1 ? key : nil
    }
}

/// base64url without padding (RFC 4648 §5), as JWTs and opaque tokens use it.
public enum Base64URL {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard text.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_" }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
