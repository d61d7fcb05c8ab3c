import Crypto

/// Builds and signs the parameter string of a SIGNED request. Both exchanges sign
/// HMAC-SHA256(secret, queryString + body) in hex; MEXC requires lower-case hex, which is what we send to both.
/// Values are percent-encoded (RFC 3986 unreserved characters kept) before signing, as Binance requires
/// since 2026-01; the simulator verifies over the exact bytes received.
public enum RequestSigning {
    /// `key=value&…` in the given order, values percent-encoded.
    public static func encode(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    public static func signature(secret: String, payload: String) -> String {
        HMACSHA256.hex(key: secret, message: payload)
    }

    /// Upper-case percent-encoding of everything but `A-Z a-z 0-9 - _ . ~`.
    public static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 65...90, 97...122, 48...57, 45, 95, 46, 126:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            }
        }
        return out
    }
}
