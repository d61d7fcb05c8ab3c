import Core
import Foundation

/// Reads a JSON object field by field, collecting every type and range problem so one 422 names all those
/// fields (business rules that need every value are checked after, by the caller).
/// Unknown fields are refused (a typo must not silently do nothing). Numbers keep their decimal text.
public struct FieldReader {
    public private(set) var problems: [FieldProblem] = []
    private let object: [String: JSONValue]
    private static let posix = Locale(identifier: "en_US_POSIX")

    /// 400 when the body is not a JSON object; 422 when it has fields outside `allowed`.
    public init(_ request: Request, allowed: Set<String>) throws(APIError) {
        let value = try request.jsonValue()
        guard case .object(let object) = value else { throw APIError.malformed("Request body must be a JSON object") }
        self.object = object
        for key in object.keys.sorted() where !allowed.contains(key) {
            problems.append(FieldProblem(key, "is not a known field"))
        }
    }

    public func has(_ key: String) -> Bool { object[key] != nil }

    /// The field's raw JSON value, when present.
    public func value(_ key: String) -> JSONValue? { object[key] }

    /// The field is present and JSON `null` (a request to clear it).
    public func isNull(_ key: String) -> Bool { object[key] == .null }

    public mutating func string(_ key: String, required: Bool = false, maxLength: Int = 256) -> String? {
        guard let v = present(key, required: required) else { return nil }
        guard case .string(let s) = v else { return fail(key, "must be a string") }
        // Counted in Unicode scalars, as PostgreSQL's VARCHAR(n) counts: "ṱ̺̺" is one Swift Character but
        // three code points (found by schemathesis: a combining-mark name overflowed VARCHAR(100)).
        guard s.unicodeScalars.count <= maxLength else { return fail(key, "must be at most \(maxLength) characters") }
        guard !s.unicodeScalars.contains(where: { $0.value == 0 }) else { return fail(key, "must not contain NUL characters") }
        return s
    }

    public mutating func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let v = present(key, required: required) else { return nil }
        guard case .bool(let b) = v else { return fail(key, "must be true or false") }
        return b
    }

    public mutating func int(_ key: String, required: Bool = false, range: ClosedRange<Int>) -> Int? {
        guard let v = present(key, required: required) else { return nil }
        guard case .int(let i) = v else { return fail(key, "must be an integer") }
        guard range.contains(i) else { return fail(key, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return i
    }

    /// A JSON number (or a decimal string) as an exact `Decimal`, within `range`, with at most `places`
    /// decimals (the column's scale: more would be rounded silently when stored).
    public mutating func decimal(_ key: String, required: Bool = false, range: ClosedRange<Decimal>, places: Int = 8) -> Decimal? {
        guard let v = present(key, required: required) else { return nil }
        let parsed: Decimal?
        switch v {
        case .int(let i): parsed = Decimal(i)
        case .double(let d) where d.isFinite: parsed = Decimal(string: "\(d)", locale: FieldReader.posix)
        case .string(let s): parsed = Decimal(string: s, locale: FieldReader.posix)
        default: parsed = nil
        }
        guard let d = parsed, !d.isNaN else { return fail(key, "must be a number") }
        guard range.contains(d) else { return fail(key, "must be between \(range.lowerBound) and \(range.upperBound)") }
        var scaled = d
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, places, .plain)
        guard rounded == d else { return fail(key, "must have at most \(places) decimal places") }
        return d
    }

    public mutating func stringArray(_ key: String, required: Bool = false, maxCount: Int = 16) -> [String]? {
        guard let v = present(key, required: required) else { return nil }
        guard case .array(let items) = v, items.count <= maxCount else { return fail(key, "must be an array of at most \(maxCount) strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { return fail(key, "must be an array of strings") }
            out.append(s)
        }
        return out
    }

    /// Records a rule violation found after reading (e.g. a business rule).
    public mutating func reject(_ key: String, _ message: String) { problems.append(FieldProblem(key, message)) }

    /// Throws the 422 when anything was wrong.
    public func finish() throws(APIError) {
        if !problems.isEmpty { throw APIError.validation(problems) }
    }

    private mutating func present(_ key: String, required: Bool) -> JSONValue? {
        guard let v = object[key], v != .null else {
            if required { problems.append(FieldProblem(key, "is required")) }
            return nil
        }
        return v
    }

    private mutating func fail<T>(_ key: String, _ message: String) -> T? {
        problems.append(FieldProblem(key, message))
        return nil
    }
}
