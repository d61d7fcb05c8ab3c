import CCurl
import Core
import Foundation

/// An outgoing HTTP request.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Whole-transfer timeout in seconds.
    public var timeout: Double
    /// A new connection, closed afterwards. Required for requests that must never be sent twice (orders):
    /// libcurl silently re-sends a request whose reused connection died before any response byte.
    public var freshConnection: Bool

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
                body: [UInt8] = [], timeout: Double = 10, freshConnection: Bool = false) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.freshConnection = freshConnection
    }
}

/// A received HTTP response; header names are lower-case.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    public func json() -> JSONValue? { try? JSONParser.parse(body) }
}

/// Why a request produced no response. `sent` tells whether the request may have reached the server, which is
/// what decides between "failed" and "outcome unknown" for order placement.
public struct HTTPClientError: Error, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case connect, timeout, other }
    public let kind: Kind
    public let sent: Bool
    public let message: String
    public var description: String { "HTTPClientError(\(kind), sent: \(sent), \(message))" }
}

/// A blocking HTTP client over libcurl's easy interface. One handle per client, reused so connections are kept
/// alive; not thread-safe.
public final class HTTPClient {
    private let handle: UnsafeMutableRawPointer

    public init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        handle = curl_easy_init()!
    }

    deinit { curl_easy_cleanup(handle) }

    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let h = handle
        curl_easy_reset(h)
        let sink = ResponseSink()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // Without this curl sends "Expect: 100-continue" for larger bodies and waits for the server.
        headerList = curl_slist_append(headerList, "Expect:")

        _ = ccurl_setopt_string(h, CURLOPT_URL, request.url)
        _ = ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        _ = ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, 5) * 1000))
        _ = ccurl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        if request.freshConnection {
            _ = ccurl_setopt_long(h, CURLOPT_FRESH_CONNECT, 1)
            _ = ccurl_setopt_long(h, CURLOPT_FORBID_REUSE, 1)
        }
        _ = ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
        if request.method == "HEAD" { _ = ccurl_setopt_long(h, CURLOPT_NOBODY, 1) }
        _ = ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
        let unmanaged = Unmanaged.passUnretained(sink).toOpaque()
        _ = ccurl_setopt_callback(h, CURLOPT_WRITEFUNCTION) { ptr, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            if let ptr { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n)) }
            return n
        }
        _ = ccurl_setopt_pointer(h, CURLOPT_WRITEDATA, unmanaged)
        _ = ccurl_setopt_callback(h, CURLOPT_HEADERFUNCTION) { ptr, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            if let ptr { sink.header(UnsafeRawBufferPointer(start: ptr, count: n)) }
            return n
        }
        _ = ccurl_setopt_pointer(h, CURLOPT_HEADERDATA, unmanaged)

        let code: CURLcode = withExtendedLifetime(sink) { request.body.withUnsafeBufferPointer { body in
            if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
                _ = ccurl_setopt_long(h, CURLOPT_POSTFIELDSIZE, body.count)
                _ = ccurl_setopt_pointer(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
            return curl_easy_perform(h)
        } }
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
                throw HTTPClientError(kind: .connect, sent: false, message: message)
            case CURLE_OPERATION_TIMEDOUT:
                // Conservative: once connected, a timed-out request may have been processed.
                throw HTTPClientError(kind: .timeout, sent: true, message: message)
            default:
                throw HTTPClientError(kind: .other, sent: true, message: message)
            }
        }
        var status = 0
        _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}

/// Collects the body and headers of one transfer.
private final class ResponseSink {
    var body: [UInt8] = []
    /// Headers of the last response block (after any `100 Continue`), names lower-case, repeated ones joined.
    var headers: [String: String] = [:]

    /// One header line as libcurl hands it over (with its CR LF). Parsed as bytes: the headers of every exchange
    /// reply pass here, and Foundation's string trimming was ~8 % of the engine's CPU in a fan-out (perf).
    func header(_ line: UnsafeRawBufferPointer) {
        let bytes = line.bindMemory(to: UInt8.self)
        if bytes.starts(with: "HTTP/".utf8) { headers = [:]; return }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        var start = colon + 1, end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let name = String(decoding: bytes[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
        let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        headers[name] = headers[name].map { $0 + ", " + value } ?? value
    }
}
