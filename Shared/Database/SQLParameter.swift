import Core
import Foundation

/// A value bound to a `$n` placeholder. Everything is sent in text format and cast by the server, so SQL
/// text never contains user input.
public protocol SQLParameter {
    var sqlText: String? { get }
}

extension String: SQLParameter { public var sqlText: String? { self } }
extension Substring: SQLParameter { public var sqlText: String? { String(self) } }
extension Int: SQLParameter { public var sqlText: String? { String(self) } }
extension Int64: SQLParameter { public var sqlText: String? { String(self) } }
extension Int32: SQLParameter { public var sqlText: String? { String(self) } }
extension Double: SQLParameter { public var sqlText: String? { "\(self)" } }
extension Bool: SQLParameter { public var sqlText: String? { self ? "t" : "f" } }
extension UUID: SQLParameter { public var sqlText: String? { uuidString.lowercased() } }
extension Date: SQLParameter { public var sqlText: String? { Timestamp.iso8601(self) } }
extension JSONValue: SQLParameter { public var sqlText: String? { jsonText } }
extension Optional: SQLParameter where Wrapped: SQLParameter {
    public var sqlText: String? { self?.sqlText }
}

/// `bytea` parameters, sent in hex form.
public struct ByteaParameter: SQLParameter {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var sqlText: String? {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [92, 120]  // \x
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A one-dimensional array parameter (`$n::text[]`, `$n::uuid[]`, …), sent as PostgreSQL's array literal with
/// every element quoted and escaped, so any text (commas, quotes, braces, backslashes) arrives as itself.
public struct ArrayParameter: SQLParameter {
    public let elements: [String]
    public init(_ elements: [String]) { self.elements = elements }
    public init(_ ids: [UUID]) { elements = ids.map { $0.uuidString.lowercased() } }
    public var sqlText: String? {
        "{" + elements.map { element in
            var quoted = "\""
            for c in element.unicodeScalars {
                if c == "\"" || c == "\\" { quoted.unicodeScalars.append("\\") }
                quoted.unicodeScalars.append(c)
            }
            return quoted + "\""
        }.joined(separator: ",") + "}"
    }
}
