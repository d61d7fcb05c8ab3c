import Core
import Foundation

/// The JSON coders every function uses, and the mapping of decoding failures to the error contract.
public enum JSON {
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.iso8601(date))
        }
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be an RFC 3339 timestamp")
            }
            return date
        }
        return d
    }

    /// 400 for syntax errors, 422 naming the field for missing keys and wrong types.
    public static func apiError(for error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey], _ extra: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (extra.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .validation([FieldProblem(path(context.codingPath, key), "is required")])
        case .typeMismatch(let type, let context):
            return .validation([FieldProblem(path(context.codingPath), "must be \(describe(type))")])
        case .valueNotFound(let type, let context):
            return .validation([FieldProblem(path(context.codingPath), "must be \(describe(type)), not null")])
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .malformed("Request body is not valid JSON")
            }
            return .validation([FieldProblem(path(context.codingPath), context.debugDescription)])
        @unknown default:
            return .malformed("Request body could not be decoded")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
