import Core
import Crypto
import Foundation

/// Why a blob could not be opened. Never silent: a tampered, moved or unreadable blob always throws.
public enum VaultError: Error, Equatable, CustomStringConvertible {
    case malformed
    case unknownKeyID(String)
    case authenticationFailed

    public var description: String {
        switch self {
        case .malformed: "credential blob is malformed"
        case .unknownKeyID(let id): "credential blob was sealed with master key '\(id)', which is not configured"
        case .authenticationFailed: "credential blob failed authentication (tampered, or bound to another user/exchange)"
        }
    }
}

/// Encrypts exchange credentials at rest (SEC-01) with AES-256-GCM.
///
/// Blob, format 1: `0x01 | len(keyID) | keyID | nonce (12) | ciphertext | tag (16)`. A fresh random nonce per
/// seal. The additional authenticated data binds the blob to its header, user and exchange, so a blob copied
/// to another row fails to open. Master keys come from `SIGNALBRIDGE_MASTER_KEYS` (or `_FILE`):
/// `id:base64(32 bytes)[,id:base64…]`; `SIGNALBRIDGE_MASTER_KEY_ID` names the one new blobs use. Older ids keep
/// opening until `signalbridge vault rotate` has re-sealed everything.
public struct Vault: Sendable {
    public static let formatVersion: UInt8 = 1
    let keys: [String: [UInt8]]
    public let currentKeyID: String

    public init(keys: [String: [UInt8]], currentKeyID: String) throws(ConfigError) {
        guard let current = keys[currentKeyID], current.count == 32 else {
            throw ConfigError(variable: "SIGNALBRIDGE_MASTER_KEY_ID", reason: "must name one of the configured master keys")
        }
        _ = current
        self.keys = keys
        self.currentKeyID = currentKeyID
    }

    public static func fromConfig(_ config: Config) throws(ConfigError) -> Vault {
        let raw = try config.requireSecret("SIGNALBRIDGE_MASTER_KEYS").reveal()
        var keys: [String: [UInt8]] = [:]
        var order: [String] = []
        for entry in raw.split(separator: ",") {
            let parts = entry.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, isValidKeyID(String(parts[0])),
                  let bytes = Data(base64Encoded: String(parts[1])), bytes.count == 32 else {
                throw ConfigError(variable: "SIGNALBRIDGE_MASTER_KEYS", reason: "must be id:base64-of-32-bytes entries separated by commas")
            }
            keys[String(parts[0])] = Array(bytes)
            order.append(String(parts[0]))
        }
        guard !keys.isEmpty else { throw ConfigError(variable: "SIGNALBRIDGE_MASTER_KEYS", reason: "holds no key") }
        let current = config.value("SIGNALBRIDGE_MASTER_KEY_ID") ?? order.last!
        return try Vault(keys: keys, currentKeyID: current)
    }

    /// 1–32 characters of `[A-Za-z0-9_-]`.
    public static func isValidKeyID(_ id: String) -> Bool {
        (1...32).contains(id.utf8.count) && id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 95 }
    }

    public func seal(_ plaintext: [UInt8], userID: UUID, exchange: String) -> [UInt8] {
        let header = Vault.header(keyID: currentKeyID)
        let nonce = SecureRandom.bytes(12)
        let (ciphertext, tag) = AESGCM.seal(key: keys[currentKeyID]!, nonce: nonce, plaintext: plaintext,
                                            aad: Vault.aad(header: header, userID: userID, exchange: exchange))
        return header + nonce + ciphertext + tag
    }

    public func open(_ blob: [UInt8], userID: UUID, exchange: String) throws(VaultError) -> [UInt8] {
        guard blob.count >= 2 + 12 + 16, blob[0] == Vault.formatVersion else { throw .malformed }
        let idLength = Int(blob[1])
        guard idLength >= 1, blob.count >= 2 + idLength + 12 + 16 else { throw .malformed }
        guard let keyID = String(bytes: blob[2..<(2 + idLength)], encoding: .utf8) else { throw .malformed }
        guard let key = keys[keyID] else { throw .unknownKeyID(keyID) }
        let header = Array(blob[0..<(2 + idLength)])
        let nonce = Array(blob[(2 + idLength)..<(2 + idLength + 12)])
        let body = blob[(2 + idLength + 12)...]
        do {
            return try AESGCM.open(key: key, nonce: nonce, ciphertext: Array(body.dropLast(16)), tag: Array(body.suffix(16)),
                                   aad: Vault.aad(header: header, userID: userID, exchange: exchange))
        } catch {
            throw .authenticationFailed
        }
    }

    /// The master key id a blob was sealed with, read from its header (no decryption).
    public static func keyID(of blob: [UInt8]) -> String? {
        guard blob.count >= 2, blob[0] == formatVersion, blob.count >= 2 + Int(blob[1]) else { return nil }
        return String(bytes: blob[2..<(2 + Int(blob[1]))], encoding: .utf8)
    }

    static func header(keyID: String) -> [UInt8] {
        [formatVersion, UInt8(keyID.utf8.count)] + Array(keyID.utf8)
    }

    static func aad(header: [UInt8], userID: UUID, exchange: String) -> [UInt8] {
        header + Array("|signalbridge-exchange-credentials|\(userID.uuidString.lowercased())|\(exchange)".utf8)
    }
}

/// An exchange key pair in plaintext, only ever inside a process: sealed as JSON, printed as `REDACTED`.
public struct SealedCredentials {
    public static func encode(apiKey: Secret, apiSecret: Secret) -> [UInt8] {
        Array(JSONValue.object(["k": .string(apiKey.reveal()), "s": .string(apiSecret.reveal())]).jsonText.utf8)
    }

    public static func decode(_ bytes: [UInt8]) throws(VaultError) -> (apiKey: Secret, apiSecret: Secret) {
        guard let value = try? JSONParser.parse(bytes), let k = value["k"]?.string,
              let s = value["s"]?.string else { throw .malformed }
        return (Secret(k), Secret(s))
    }

    /// Identifies a key without decrypting anything: SHA-256 of the API key (the public half), hex.
    public static func fingerprint(apiKey: Secret) -> String {
        SHA256.hex(apiKey.reveal())
    }
}
