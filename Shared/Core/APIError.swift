/// An error that crosses the HTTP boundary as `{code, message, details, request_id}` (seed spec §8.2).
/// Handlers throw it; the runtime renders it. Messages are for people and never contain secrets.
public struct APIError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var status: Int
    public var message: String
    public var details: JSONValue?
    /// Extra response headers (`Allow`, `Retry-After`).
    public var headers: [String: String]

    public init(_ code: ErrorCode, _ message: String, details: JSONValue? = nil, status: Int? = nil, headers: [String: String] = [:]) {
        self.code = code
        self.status = status ?? code.defaultStatus
        self.message = message
        self.details = details
        self.headers = headers
    }

    /// The JSON body of the error contract.
    public func body(requestID: String) -> String {
        let object: JSONValue = [
            "code": .string(code.rawValue),
            "message": .string(message),
            "details": details ?? .null,
            "request_id": .string(requestID),
        ]
        return object.jsonText
    }
}

extension APIError {
    public static func notFound(_ what: String = "No route matches this path") -> APIError {
        APIError(.notFound, what)
    }

    public static func methodNotAllowed(allowed: [String]) -> APIError {
        let list = allowed.joined(separator: ", ")
        return APIError(.methodNotAllowed, "Method not allowed; use \(list)",
                        details: ["allowed": .array(allowed.map { .string($0) })], headers: ["Allow": list])
    }

    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.payloadTooLarge, "Request body exceeds \(limit) bytes", details: ["limit_bytes": .int(limit)])
    }

    public static func malformed(_ message: String, details: JSONValue? = nil) -> APIError {
        APIError(.malformedRequest, message, details: details)
    }

    /// 422 with one entry per offending field: `{"fields": [{"field": "...", "error": "..."}]}`.
    public static func validation(_ problems: [FieldProblem]) -> APIError {
        APIError(.validationFailed, "Request validation failed",
                 details: ["fields": .array(problems.map { ["field": .string($0.field), "error": .string($0.error)] })])
    }

    public static func internalError() -> APIError {
        APIError(.internalError, "Internal error; the request id identifies it in the logs")
    }

    public static func databaseUnavailable(retryAfterSeconds: Int = 2) -> APIError {
        APIError(.databaseError, "Database unavailable, try again shortly", status: 503,
                 headers: ["Retry-After": String(retryAfterSeconds)])
    }
}

/// One invalid field of a request: its JSON path and what is wrong with it.
public struct FieldProblem: Sendable, Equatable {
    public let field: String
    public let error: String
    public init(_ field: String, _ error: String) {
        self.field = field
        self.error = error
    }
}
