import Core
import Crypto
import Foundation

/// Why a token was refused. `expired` maps to `AUTH_1002`, everything else to `AUTH_1001`.
public enum TokenError: Error, Equatable {
    case malformed
    case unsupportedAlgorithm
    case badSignature
    case expired
    case notYetValid
}

/// JSON Web Tokens signed with HMAC-SHA256 (RFC 7519, `alg: HS256` only — `none` and every other
/// algorithm are refused, whatever the header says).
public struct JWT: Sendable {
    let secret: Secret

    /// The secret must be at least 32 bytes (the HMAC-SHA256 key size).
    public init(secret: Secret) throws(ConfigError) {
        guard secret.reveal().utf8.count >= 32 else {
            throw ConfigError(variable: "JWT_SECRET", reason: "must be at least 32 characters")
        }
        self.secret = secret
    }

    public func sign(_ claims: [String: JSONValue]) -> String {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(Array(JSONValue.object(claims).jsonText.utf8))
        let input = header + "." + payload
        return input + "." + Base64URL.encode(HMACSHA256.mac(key: Array(secret.reveal().utf8), message: Array(input.utf8)))
    }

    /// Checks structure, algorithm, signature (constant time), `exp` and `iat` (60 s of clock skew allowed).
    public func verify(_ token: String, now: Date = Date()) throws(TokenError) -> [String: JSONValue] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONParser.parse(Array(headerBytes)).object,
              let claims = try? JSONParser.parse(Array(payloadBytes)).object
        else { throw .malformed }
        guard header["alg"]?.string == "HS256" else { throw .unsupportedAlgorithm }
        let expected = HMACSHA256.mac(key: Array(secret.reveal().utf8), message: Array((parts[0] + "." + parts[1]).utf8))
        guard ConstantTime.equals(signature, expected) else { throw .badSignature }
        let nowSeconds = Int(now.timeIntervalSince1970)
        guard let exp = claims["exp"]?.int else { throw .malformed }
        if nowSeconds >= exp { throw .expired }
        if let iat = claims["iat"]?.int, iat > nowSeconds + 60 { throw .notYetValid }
        return claims
    }
}
