import Core
import Crypto
import Foundation
import Testing
@testable import Vault

/// AES-256-GCM test cases 13, 14 and 16 of McGrew & Viega, "The Galois/Counter Mode of Operation" (the NIST
/// submission), cross-checked with Python's `cryptography`.
@Suite struct AESGCMVectorTests {
    func hex(_ s: String) -> [UInt8] { Hex.decode(s)! }

    @Test func testCase13EmptyPlaintext() {
        let (c, t) = AESGCM.seal(key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12), plaintext: [], aad: [])
        #expect(c.isEmpty && Hex.encode(t) == "530f8afbc74536b9a963b4f1c4cb738b")
    }

    @Test func testCase14() throws {
        let (c, t) = AESGCM.seal(key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12),
                                 plaintext: [UInt8](repeating: 0, count: 16), aad: [])
        #expect(Hex.encode(c) == "cea7403d4d606b6e074ec5d3baf39d18" && Hex.encode(t) == "d0d1c8a799996bf0265b98b5d48ab919")
        #expect(try AESGCM.open(key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12), ciphertext: c, tag: t, aad: [])
                == [UInt8](repeating: 0, count: 16))
    }

    @Test func testCase16WithAAD() throws {
        let key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let iv = hex("cafebabefacedbaddecaf888")
        let p = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
        let a = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let (c, t) = AESGCM.seal(key: key, nonce: iv, plaintext: p, aad: a)
        #expect(Hex.encode(c) == "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
        #expect(Hex.encode(t) == "76fc6ece0f4e1768cddf8853bb2d551b")
        #expect(try AESGCM.open(key: key, nonce: iv, ciphertext: c, tag: t, aad: a) == p)
        var badTag = t
        badTag[0] ^= 1
        #expect(throws: AESGCM.AuthenticationFailure.self) { try AESGCM.open(key: key, nonce: iv, ciphertext: c, tag: badTag, aad: a) }
        #expect(throws: AESGCM.AuthenticationFailure.self) { try AESGCM.open(key: key, nonce: iv, ciphertext: c, tag: t, aad: Array(a.dropLast())) }
    }
}

@Suite struct VaultTests {
    let k1 = SecureRandom.bytes(32), k2 = SecureRandom.bytes(32)
    let user = UUID(), other = UUID()
    let plaintext = SealedCredentials.encode(apiKey: Secret("PLAINTEXT-API-KEY-1234"), apiSecret: Secret("PLAINTEXT-SECRET-5678"))

    func vault(_ current: String = "k1") throws -> Vault { try Vault(keys: ["k1": k1, "k2": k2], currentKeyID: current) }

    @Test func roundTripWithFreshNonces() throws {
        let v = try vault()
        let a = v.seal(plaintext, userID: user, exchange: "mexc"), b = v.seal(plaintext, userID: user, exchange: "mexc")
        #expect(a != b)  // a new nonce every time
        #expect(try v.open(a, userID: user, exchange: "mexc") == plaintext)
        let (key, secret) = try SealedCredentials.decode(try v.open(b, userID: user, exchange: "mexc"))
        #expect(key.reveal() == "PLAINTEXT-API-KEY-1234" && secret.reveal() == "PLAINTEXT-SECRET-5678")
        #expect(Vault.keyID(of: a) == "k1")
        // The blob never contains the plaintext.
        #expect(!String(decoding: a, as: UTF8.self).contains("PLAINTEXT"))
    }

    /// Every part of the blob is covered: header (format, key id), nonce, ciphertext, tag, and the binding.
    @Test func tamperingFailsLoudly() throws {
        let v = try vault()
        let blob = v.seal(plaintext, userID: user, exchange: "binance")
        let nonceStart = 2 + 2
        for index in [nonceStart, nonceStart + 11, nonceStart + 12, blob.count / 2, blob.count - 17, blob.count - 16, blob.count - 1] {
            var t = blob
            t[index] ^= 0x01
            #expect(throws: VaultError.authenticationFailed) { try v.open(t, userID: user, exchange: "binance") }
        }
        var wrongVersion = blob
        wrongVersion[0] = 2
        #expect(throws: VaultError.malformed) { try v.open(wrongVersion, userID: user, exchange: "binance") }
        var relabelled = blob
        relabelled[3] = UInt8(ascii: "2")  // "k1" → "k2": the right key for the new label, but the header is authenticated
        #expect(throws: VaultError.authenticationFailed) { try v.open(relabelled, userID: user, exchange: "binance") }
        #expect(throws: VaultError.malformed) { try v.open(Array(blob.prefix(20)), userID: user, exchange: "binance") }
        #expect(throws: VaultError.malformed) { try v.open([], userID: user, exchange: "binance") }
    }

    @Test func aBlobCopiedToAnotherRowDoesNotOpen() throws {
        let v = try vault()
        let blob = v.seal(plaintext, userID: user, exchange: "binance")
        #expect(throws: VaultError.authenticationFailed) { try v.open(blob, userID: other, exchange: "binance") }
        #expect(throws: VaultError.authenticationFailed) { try v.open(blob, userID: user, exchange: "mexc") }
    }

    @Test func oldKeysKeepOpeningAfterTheCurrentKeyChanges() throws {
        let old = try vault("k1").seal(plaintext, userID: user, exchange: "mexc")
        let v2 = try vault("k2")
        #expect(try v2.open(old, userID: user, exchange: "mexc") == plaintext)
        #expect(Vault.keyID(of: v2.seal(plaintext, userID: user, exchange: "mexc")) == "k2")
        let withoutK1 = try Vault(keys: ["k2": k2], currentKeyID: "k2")
        #expect(throws: VaultError.unknownKeyID("k1")) { try withoutK1.open(old, userID: user, exchange: "mexc") }
    }

    @Test func configuration() throws {
        let a = Data(k1).base64EncodedString(), b = Data(k2).base64EncodedString()
        let v = try Vault.fromConfig(Config(environment: ["SIGNALBRIDGE_MASTER_KEYS": "old:\(a), new:\(b)"]))
        #expect(v.currentKeyID == "new")
        #expect(try Vault.fromConfig(Config(environment: ["SIGNALBRIDGE_MASTER_KEYS": "old:\(a),new:\(b)", "SIGNALBRIDGE_MASTER_KEY_ID": "old"])).currentKeyID == "old")
        for bad in ["", "nokey", "id:short", "bad id:\(a)", "x:\(a)"] {
            var env = ["SIGNALBRIDGE_MASTER_KEYS": bad]
            if bad == "x:\(a)" { env["SIGNALBRIDGE_MASTER_KEY_ID"] = "missing" }
            #expect(throws: ConfigError.self) { try Vault.fromConfig(Config(environment: env)) }
        }
    }

    @Test func fingerprintsIdentifyWithoutRevealing() {
        let f = SealedCredentials.fingerprint(apiKey: Secret("PLAINTEXT-API-KEY-1234"))
        #expect(f.count == 64 && !f.contains("PLAINTEXT"))
        #expect(f == SealedCredentials.fingerprint(apiKey: Secret("PLAINTEXT-API-KEY-1234")))
    }
}
