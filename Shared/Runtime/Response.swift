import Core
import Foundation

/// What a handler returns: status, headers and body, plus optional work to run after the response is sent.
public struct Response {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Runs after the response has been flushed to nginx and the connection closed (e.g. order submission
    /// after a webhook acknowledgment). Its failures are logged, never sent.
    public var afterResponse: (() throws -> Void)?
    /// A streamed body, for responses too large to hold in memory (the history CSV export); `body` is then
    /// ignored. The runtime calls it once the head has been written, with `write`, which sends one chunk and
    /// throws `ResponseStreamClosed` when the connection is gone (so the writer can stop). The status and
    /// headers are already sent by then: whatever the writer throws is logged and the connection is cut without
    /// FastCGI's end-of-request record, so nginx ends the client's response unfinished (no last chunk) instead
    /// of passing a truncated body off as complete. Check everything that can fail early before returning.
    public var bodyWriter: BodyWriter?

    /// Writes a streamed body chunk by chunk with the `write` it is given.
    public typealias BodyWriter = (_ write: ([UInt8]) throws -> Void) throws -> Void

    public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ value: some Encodable, status: Int = 200) throws -> Response {
        let data = try JSON.encoder.encode(value)
        return Response(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    public static func json(_ value: JSONValue, status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: Array(value.jsonText.utf8))
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    public static func noContent() -> Response { Response(status: 204) }

    /// The error contract body for `error`.
    public static func error(_ error: APIError, requestID: String) -> Response {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        for (name, value) in error.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        return Response(status: error.status, headers: headers, body: Array(error.body(requestID: requestID).utf8))
    }

    /// A streamed response: the head now, the body from `writer` after it (see `bodyWriter`).
    public static func streamed(status: Int = 200, headers: [(name: String, value: String)], writer: @escaping BodyWriter) -> Response {
        var response = Response(status: status, headers: headers)
        response.bodyWriter = writer
        return response
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The CGI/FastCGI wire form: `Status:` line, headers, blank line, body.
    func wireHead(requestID: String) -> String {
        var head = "Status: \(status) \(HTTPStatus.reason(status))\r\n"
        var hasContentType = false
        for (name, value) in headers {
            if name.lowercased() == "content-type" { hasContentType = true }
            head += "\(name): \(HTTPStatus.headerSafe(value))\r\n"
        }
        if !hasContentType && (!body.isEmpty || bodyWriter != nil) { head += "Content-Type: application/octet-stream\r\n" }
        head += "X-Request-ID: \(requestID)\r\n"
        if header("Cache-Control") == nil { head += "Cache-Control: no-store\r\n" }
        head += "\r\n"
        return head
    }
}

/// Thrown by a streamed response's `write` when the connection to nginx is gone (the client went away).
public struct ResponseStreamClosed: Error, Sendable {
    public init() {}
}

/// Reason phrases and header hygiene.
enum HTTPStatus {
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }

    /// Strips CR/LF so a value can never start a new header line.
    /// (Checked per scalar: in Swift "\r\n" is one `Character`, equal to neither "\r" nor "\n".)
    static func headerSafe(_ value: String) -> String {
        guard value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else { return value }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
        return String(scalars)
    }
}
