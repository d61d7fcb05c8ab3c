/// E-mail addresses as accounts are keyed: trimmed and lower-cased (RN-U04 is case-insensitive), with a
/// deliberately plain shape check — one `@`, a dotted domain, no spaces, ≤ 254 characters.
public enum EmailAddress {
    public static func normalized(_ raw: String) -> String? {
        let email = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard (3...254).contains(email.count), !email.contains(where: { $0.isWhitespace || $0.isNewline }) else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return nil }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 }) else { return nil }
        return email
    }
}

import Foundation
