import Core
import Foundation

/// One result row, columns by name, values in PostgreSQL's text format. Typed accessors throw
/// `DatabaseError(.decoding)` naming the column when it is missing, NULL or malformed.
public struct Row: Sendable {
    let columns: [String: Int]
    let values: [String?]

    public func isNull(_ column: String) throws(DatabaseError) -> Bool { try raw(column) == nil }

    public func raw(_ column: String) throws(DatabaseError) -> String? {
        guard let index = columns[column] else {
            throw DatabaseError(kind: .decoding, message: "no column \(column) in the result")
        }
        return values[index]
    }

    public func string(_ column: String) throws(DatabaseError) -> String {
        guard let v = try raw(column) else { throw nullError(column) }
        return v
    }

    public func optionalString(_ column: String) throws(DatabaseError) -> String? { try raw(column) }

    public func int(_ column: String) throws(DatabaseError) -> Int {
        guard let v = try optionalInt(column) else { throw nullError(column) }
        return v
    }

    public func optionalInt(_ column: String) throws(DatabaseError) -> Int? {
        guard let text = try raw(column) else { return nil }
        guard let v = Int(text) else { throw malformed(column, "an integer") }
        return v
    }

    public func int64(_ column: String) throws(DatabaseError) -> Int64 {
        guard let text = try raw(column) else { throw nullError(column) }
        guard let v = Int64(text) else { throw malformed(column, "a 64-bit integer") }
        return v
    }

    public func double(_ column: String) throws(DatabaseError) -> Double {
        guard let text = try raw(column) else { throw nullError(column) }
        guard let v = Double(text) else { throw malformed(column, "a number") }
        return v
    }

    public func bool(_ column: String) throws(DatabaseError) -> Bool {
        guard let v = try optionalBool(column) else { throw nullError(column) }
        return v
    }

    public func optionalBool(_ column: String) throws(DatabaseError) -> Bool? {
        switch try raw(column) {
        case nil: return nil
        case "t": return true
        case "f": return false
        default: throw malformed(column, "a boolean")
        }
    }

    public func date(_ column: String) throws(DatabaseError) -> Date {
        guard let v = try optionalDate(column) else { throw nullError(column) }
        return v
    }

    public func optionalDate(_ column: String) throws(DatabaseError) -> Date? {
        guard let text = try raw(column) else { return nil }
        guard let d = Timestamp.parse(text) else { throw malformed(column, "a timestamp") }
        return d
    }

    public func uuid(_ column: String) throws(DatabaseError) -> UUID {
        guard let text = try raw(column) else { throw nullError(column) }
        guard let v = UUID(uuidString: text) else { throw malformed(column, "a UUID") }
        return v
    }

    /// A `bytea` column (hex output format, `\x…`).
    public func bytes(_ column: String) throws(DatabaseError) -> [UInt8] {
        guard let text = try raw(column) else { throw nullError(column) }
        guard text.hasPrefix("\\x"), let v = HexBytes.decode(text.dropFirst(2)) else { throw malformed(column, "bytea") }
        return v
    }

    private func nullError(_ column: String) -> DatabaseError {
        DatabaseError(kind: .decoding, message: "column \(column) is NULL")
    }

    private func malformed(_ column: String, _ expected: String) -> DatabaseError {
        DatabaseError(kind: .decoding, message: "column \(column) is not \(expected)")
    }
}

enum HexBytes {
    static func decode(_ text: Substring) -> [UInt8]? {
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
