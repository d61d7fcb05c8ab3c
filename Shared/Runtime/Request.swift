import Core
import Foundation

/// One HTTP request as a function sees it: method, decoded path, query, lower-cased headers and the raw body.
public struct Request: Sendable {
    public let method: String
    /// The decoded path without the query string (`/v1/executions/42`).
    public let path: String
    /// Query parameters in order; a name may repeat.
    public let queryItems: [(name: String, value: String)]
    /// The query string exactly as received, still percent-encoded (what request signatures cover).
    public let rawQuery: String
    /// Header names are lower-case with `-` (`x-request-id`).
    public let headers: [String: String]
    public let body: [UInt8]
    public let remoteAddress: String?
    /// The id echoed in `X-Request-ID` and in every log line and error body of this request.
    public let requestID: String
    /// Values of the `{name}` segments of the matched route.
    public internal(set) var pathParameters: [String: String] = [:]

    public init(method: String, path: String, rawQuery: String = "", headers: [String: String] = [:],
                body: [UInt8] = [], remoteAddress: String? = nil, requestID: String) {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.queryItems = parseQueryString(rawQuery)
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.requestID = requestID
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The first value of a query parameter.
    public func query(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }

    public func parameter(_ name: String) -> String? { pathParameters[name] }

    /// Decodes the body as JSON: 415 when it is declared as something else, 400 when it is not JSON,
    /// 422 (with the field path) when a field is missing or has the wrong type.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws(APIError) -> T {
        try checkJSONBody()
        do {
            return try JSON.decoder.decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw JSON.apiError(for: error)
        } catch {
            throw APIError.malformed("Request body is not valid JSON")
        }
    }

    /// The body as a `JSONValue` (`JSONParser`, no Codable): 415 when declared as something else, 400 when not JSON.
    public func jsonValue() throws(APIError) -> JSONValue {
        try checkJSONBody()
        do {
            return try JSONParser.parse(body)
        } catch {
            throw APIError.malformed("Request body is not valid JSON")
        }
    }

    private func checkJSONBody() throws(APIError) {
        if let contentType = header("content-type"), !Request.isJSONMediaType(contentType.utf8) {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json", status: 415)
        }
        guard !body.isEmpty else { throw APIError.malformed("Request body is empty; a JSON object is expected") }
    }

    /// `application/json`, case-insensitive, optionally followed by `;` parameters, spaces and tabs around it.
    static func isJSONMediaType(_ value: String.UTF8View) -> Bool {
        let type = value.split(separator: UInt8(ascii: ";"), maxSplits: 1, omittingEmptySubsequences: false).first ?? value[...]
        let trimmed = type.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        let expected = Array("application/json".utf8)
        guard trimmed.count == expected.count else { return false }
        return zip(trimmed, expected).allSatisfy { a, b in (a >= 65 && a <= 90 ? a + 32 : a) == b }
    }
}

/// Parses `a=1&b=two%20words` (with `+` as space) into ordered name/value pairs. Byte-level: Foundation's
/// `replacingOccurrences`/`removingPercentEncoding` bridge through NSString and cost ~20 % of a request (perf).
public func parseQueryString(_ query: String) -> [(name: String, value: String)] {
    guard !query.isEmpty else { return [] }
    return query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
        if let eq = pair.firstIndex(of: UInt8(ascii: "=")) {
            return (percentDecode(pair[..<eq]), percentDecode(pair[pair.index(after: eq)...]))
        }
        return (percentDecode(pair), "")
    }
}

/// Decodes `%XX` escapes and `+` (as space); an invalid escape is kept as it is. Invalid UTF-8 is repaired.
public func percentDecode(_ bytes: Substring.UTF8View.SubSequence) -> String {
    if !bytes.contains(where: { $0 == 37 || $0 == 43 }) { return String(decoding: bytes, as: UTF8.self) }
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 65...70: c - 55
        case 97...102: c - 87
        default: nil
        }
    }
    let input = Array(bytes)
    var out = [UInt8]()
    out.reserveCapacity(input.count)
    var i = 0
    while i < input.count {
        let b = input[i]
        if b == 43 {
            out.append(32)
        } else if b == 37, i + 2 < input.count, let hi = hex(input[i + 1]), let lo = hex(input[i + 2]) {
            out.append(hi << 4 | lo)
            i += 2
        } else {
            out.append(b)
        }
        i += 1
    }
    return String(decoding: out, as: UTF8.self)
}
