import COpenSSL

/// AES-256-GCM through OpenSSL's EVP interface: 256-bit key, 96-bit nonce, 128-bit tag.
/// `open` fails (throws) on any change to the ciphertext, nonce, tag or additional authenticated data.
public enum AESGCM {
    public struct AuthenticationFailure: Error, Equatable {}

    public static func seal(key: [UInt8], nonce: [UInt8], plaintext: [UInt8], aad: [UInt8]) -> (ciphertext: [UInt8], tag: [UInt8]) {
        precondition(key.count == 32 && nonce.count == 12, "AES-256-GCM needs a 32-byte key and a 12-byte nonce")
        guard let ctx = EVP_CIPHER_CTX_new() else { preconditionFailure("EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        var length: Int32 = 0
        var total = 0
        let padded = (plaintext: plaintext + [0], aad: aad + [0])  // valid pointers even when empty
        var ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1
            && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1
            && EVP_EncryptInit_ex(ctx, nil, nil, key, nonce) == 1
        if ok, !aad.isEmpty { ok = EVP_EncryptUpdate(ctx, nil, &length, padded.aad, Int32(aad.count)) == 1 }
        if ok, !plaintext.isEmpty {
            ok = out.withUnsafeMutableBufferPointer { EVP_EncryptUpdate(ctx, $0.baseAddress, &length, padded.plaintext, Int32(plaintext.count)) } == 1
            total = Int(length)
        }
        if ok {
            ok = out.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + total, &length) } == 1
            total += Int(length)
        }
        if ok { ok = tag.withUnsafeMutableBytes { EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, $0.baseAddress) } == 1 }
        precondition(ok, "AES-256-GCM encryption failed")
        return (Array(out.prefix(total)), tag)
    }

    public static func open(key: [UInt8], nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8], aad: [UInt8]) throws(AuthenticationFailure) -> [UInt8] {
        guard key.count == 32, nonce.count == 12, tag.count == 16 else { throw AuthenticationFailure() }
        guard let ctx = EVP_CIPHER_CTX_new() else { preconditionFailure("EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        var total = 0
        var tagCopy = tag
        let padded = (ciphertext: ciphertext + [0], aad: aad + [0])
        var ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1
            && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1
            && EVP_DecryptInit_ex(ctx, nil, nil, key, nonce) == 1
        if ok, !aad.isEmpty { ok = EVP_DecryptUpdate(ctx, nil, &length, padded.aad, Int32(aad.count)) == 1 }
        if ok, !ciphertext.isEmpty {
            ok = out.withUnsafeMutableBufferPointer { EVP_DecryptUpdate(ctx, $0.baseAddress, &length, padded.ciphertext, Int32(ciphertext.count)) } == 1
            total = Int(length)
        }
        if ok { ok = tagCopy.withUnsafeMutableBytes { EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, $0.baseAddress) } == 1 }
        // The tag is checked here: a final of 0 means the data or the AAD was altered.
        if ok { ok = out.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(ctx, $0.baseAddress! + total, &length) } > 0 }
        guard ok else {
            for i in out.indices { out[i] = 0 }
            throw AuthenticationFailure()
        }
        total += Int(length)
        return Array(out.prefix(total))
    }
}
