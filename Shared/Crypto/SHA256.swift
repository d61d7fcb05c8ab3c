import COpenSSL

/// SHA-256 through OpenSSL's EVP interface.
public enum SHA256 {
    public static func hash(_ data: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let input = Array(data)
        let ok = input.withUnsafeBytes { inBuf in
            digest.withUnsafeMutableBufferPointer { outBuf in
                EVP_Digest(inBuf.baseAddress, inBuf.count, outBuf.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) failed")
        return digest
    }

    public static func hash(_ text: String) -> [UInt8] { hash(Array(text.utf8)) }

    public static func hex(_ text: String) -> String { Hex.encode(hash(text)) }
}

/// HMAC-SHA256 through OpenSSL's EVP_MAC interface (no deprecated HMAC_CTX).
public enum HMACSHA256 {
    public static func mac(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        // A zero-length buffer may have no base address; libcrypto wants a valid pointer, so pad with a spare byte.
        let keyCount = key.count, messageCount = message.count
        let keyBytes = Array(key) + [0]
        let messageBytes = Array(message) + [0]
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { preconditionFailure("EVP_MAC_fetch(HMAC) failed") }
        defer { EVP_MAC_free(mac) }
        guard let ctx = EVP_MAC_CTX_new(mac) else { preconditionFailure("EVP_MAC_CTX_new failed") }
        defer { EVP_MAC_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: 32)
        var outLength = 0
        let ok: Bool = "SHA256".withCString { digestName in
            var params = [
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, UnsafeMutablePointer(mutating: digestName), 0),
                OSSL_PARAM_construct_end(),
            ]
            return keyBytes.withUnsafeBufferPointer { k in
                messageBytes.withUnsafeBufferPointer { m in
                    out.withUnsafeMutableBufferPointer { o in
                        EVP_MAC_init(ctx, k.baseAddress, keyCount, &params) == 1
                            && EVP_MAC_update(ctx, m.baseAddress, messageCount) == 1
                            && EVP_MAC_final(ctx, o.baseAddress, &outLength, 32) == 1
                    }
                }
            }
        }
        precondition(ok && outLength == 32, "HMAC-SHA256 failed")
        return out
    }

    public static func hex(key: String, message: String) -> String {
        Hex.encode(mac(key: Array(key.utf8), message: Array(message.utf8)))
    }
}

/// Cryptographically secure random bytes (OpenSSL's DRBG).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return out
    }
}

/// Compares secrets in time independent of where they differ.
public enum ConstantTime {
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}

/// Lower-case hexadecimal.
public enum Hex {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for b in bytes {
                out[i] = digit(b >> 4)
                out[i + 1] = digit(b & 0xf)
                i += 2
            }
            return i
        }
    }

    private static func digit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
