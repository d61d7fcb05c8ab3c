import Core
import Crypto
import Foundation
import Testing
@testable import Identity

@Suite struct JWTTests {
    let jwt = try! JWT(secret: Secret(String(repeating: "k", count: 32)))
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func token(exp: Int, iat: Int? = nil) -> String {
        var claims: [String: JSONValue] = ["sub": "u1", "exp": .int(exp)]
        if let iat { claims["iat"] = .int(iat) }
        return jwt.sign(claims)
    }

    @Test func roundTrip() throws {
        let claims = try jwt.verify(token(exp: 1_800_000_100, iat: 1_800_000_000), now: now)
        #expect(claims["sub"] == "u1")
    }

    @Test func expiredAndFuture() {
        #expect(throws: TokenError.expired) { try jwt.verify(token(exp: 1_800_000_000), now: now) }
        #expect(throws: TokenError.notYetValid) { try jwt.verify(token(exp: 1_800_009_999, iat: 1_800_000_100), now: now) }
    }

    @Test func tamperingIsRefused() {
        let good = token(exp: 1_800_000_100)
        var parts = good.split(separator: ".").map(String.init)
        parts[1] = Base64URL.encode(Array(#"{"exp":1800000100,"sub":"admin"}"#.utf8))
        #expect(throws: TokenError.badSignature) { try jwt.verify(parts.joined(separator: "."), now: now) }
        let other = try! JWT(secret: Secret(String(repeating: "x", count: 32)))
        #expect(throws: TokenError.badSignature) { try other.verify(good, now: now) }
        #expect(throws: TokenError.malformed) { try jwt.verify("not.a.jwt!", now: now) }
        #expect(throws: TokenError.malformed) { try jwt.verify(String(good.dropLast(good.count / 2)), now: now) }
    }

    /// `alg: none` (and anything but HS256) is refused even with an empty or valid-looking signature.
    @Test func algorithmConfusion() {
        let header = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"exp":1800000100,"sub":"u1"}"#.utf8))
        #expect(throws: TokenError.unsupportedAlgorithm) { try jwt.verify("\(header).\(payload).", now: now) }
        let hs512 = Base64URL.encode(Array(#"{"alg":"HS512"}"#.utf8))
        #expect(throws: TokenError.unsupportedAlgorithm) { try jwt.verify("\(hs512).\(payload).AAAA", now: now) }
    }

    @Test func shortSecretsAreRefused() {
        #expect(throws: ConfigError.self) { try JWT(secret: Secret("short")) }
    }
}

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(logN: 10)

    @Test func verifiesAndRefuses() {
        let stored = hasher.hash("correct horse")
        #expect(stored.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(PasswordHasher.verify("correct horse", against: stored))
        #expect(!PasswordHasher.verify("correct horsE", against: stored))
        #expect(!PasswordHasher.verify("correct horse", against: "garbage"))
        #expect(!PasswordHasher.verify("x", against: "$scrypt$ln=99,r=8,p=1$AAAA$AAAA"))
    }

    @Test func saltsDiffer() {
        #expect(hasher.hash("same") != hasher.hash("same"))
    }

    @Test func rehashWhenParametersChange() {
        let weak = PasswordHasher(logN: 10).hash("p")
        #expect(PasswordHasher(logN: 11).needsRehash(weak))
        #expect(!PasswordHasher(logN: 10).needsRehash(weak))
    }

    /// RFC 7914 §12 test vector 2 (scrypt N=1024, r=8, p=16, "password"/"NaCl", 64 bytes).
    @Test func rfc7914Vector() {
        let key = PasswordHasher.derive("password", salt: Array("NaCl".utf8), logN: 10, r: 8, p: 16, length: 64)
        #expect(key.map(Hex.encode) == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }
}

@Suite struct Base64URLTests {
    @Test func roundTripWithoutPadding() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(($0 * 37 + n) % 256) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("a+b/") == nil)
    }
}
