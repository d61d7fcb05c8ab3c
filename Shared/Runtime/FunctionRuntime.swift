import CFastCGI
import Core
import Foundation

/// Runs an HTTP function: serves FastCGI on the socket named by `FCGI_SOCKET`, or on the listening socket
/// inherited on fd 0 (spawn-fcgi, a systemd socket unit), or — when neither — answers one request CGI-style
/// from the environment and stdin. One request at a time per process; scale with processes — or, for a router with
/// a group handler, the requests waiting at once, taken together (`FunctionRuntime+Grouped.swift`).
///
/// A thrown error never ends the process: it becomes an error-contract response and a log line.
/// SIGTERM ends the accept loop after the request in progress; the exit status is then 0.
public struct FunctionRuntime {
    public let name: String
    public let router: Router
    public let logger: Logger
    public let maxBodyBytes: Int

    public init(name: String, router: Router, logger: Logger, maxBodyBytes: Int) {
        self.name = name
        self.router = router
        self.logger = logger
        self.maxBodyBytes = maxBodyBytes
    }

    /// Entry point for `main.swift`: `exit(FunctionRuntime.main(name: "Health") { logger, config in … })`.
    /// `makeRouter` runs once at start-up; a configuration error there exits with status 78 (EX_CONFIG).
    public static func main(name: String, config: Config = Config(),
                            makeRouter: (Logger, Config) throws -> Router) -> Int32 {
        if let path = config.value("LOG_FILE"), !LogSink.redirectStderr(toFile: path) {
            Logger(label: name).error("cannot open LOG_FILE; logging to stderr", ["path": .string(path)])
        }
        let logger = Logger.fromConfig(config, label: name).with(["pid": .int(Int(getpid()))])
        unblockSignals()
        let runtime: FunctionRuntime
        do {
            let maxBody = try config.int("MAX_BODY_BYTES", default: 65536, range: 1...(16 << 20))
            runtime = FunctionRuntime(name: name, router: try makeRouter(logger, config), logger: logger, maxBodyBytes: maxBody)
        } catch {
            logger.error("start-up failed", ["error": .string(String(describing: error))])
            return 78
        }
        return runtime.run(config: config)
    }

    /// A launcher may hand over a blocked signal mask (threads of Swift Testing and Dispatch block nearly all
    /// signals, and posix_spawn children inherit that); SIGTERM must always reach the accept loop.
    static func unblockSignals() {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
    }

    /// Chooses the mode and serves until shutdown; returns the process exit status.
    public func run(config: Config) -> Int32 {
        guard FCGX_Init() == 0 else {
            logger.error("FCGX_Init failed")
            return 1
        }
        var listenFD: Int32 = 0
        if let socketPath = config.value("FCGI_SOCKET") {
            listenFD = FCGX_OpenSocket(socketPath, 1024)
            guard listenFD >= 0 else {
                logger.error("cannot listen on FCGI_SOCKET", ["socket": .string(socketPath)])
                return 1
            }
            if let mode = config.value("FCGI_SOCKET_MODE").flatMap({ mode_t($0, radix: 8) }), !socketPath.hasPrefix(":") {
                chmod(socketPath, mode)
            }
        } else if FCGX_IsCGI() != 0 {
            return serveOnceCGI()
        }
        if let group = router.group { return serveGrouped(listenFD: listenFD, limit: group.limit, handler: group.handler) }
        return serveFastCGI(listenFD: listenFD)
    }

    private func serveFastCGI(listenFD: Int32) -> Int32 {
        // Heap-allocated: libfcgi keeps pointers into the request between calls.
        let req = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        req.initialize(to: FCGX_Request())
        defer { req.deallocate() }
        guard FCGX_InitRequest(req, listenFD, 0) == 0 else {
            logger.error("FCGX_InitRequest failed")
            return 1
        }
        logger.info("serving FastCGI", ["listen_fd": .int(Int(listenFD))])
        while true {
            let accepted = FCGX_Accept_r(req)
            if accepted < 0 {
                // After SIGTERM/SIGUSR1 libfcgi's handlers set shutdownPending and accept returns -1 or -EINTR
                // (the latter when the runtime opened FCGI_SOCKET itself); anything else is a real error.
                if accepted == -1 || accepted == -EINTR {
                    logger.info("shutting down")
                    return 0
                }
                logger.error("accept failed", ["code": .int(Int(accepted))])
                return 1
            }
            let params = FunctionRuntime.parameters(of: req.pointee.envp)
            let stream = req.pointee.in
            let (response, requestID) = process(params: params) { count in
                FunctionRuntime.read(count, from: stream)
            }
            write(response, requestID: requestID, on: req)
            FCGX_Finish_r(req)
            runAfterResponse(response, requestID: requestID)
        }
    }

    /// Writes a response on its FastCGI request (the caller finishes the request).
    func write(_ response: Response, requestID: String, on req: UnsafeMutablePointer<FCGX_Request>) {
        let out = req.pointee.out
        FunctionRuntime.write(Array(response.wireHead(requestID: requestID).utf8), to: out)
        if let writer = response.bodyWriter {
            if !streamBody(writer, requestID: requestID, chunk: { FunctionRuntime.write($0, to: out) }) {
                // Cut the connection before FCGX_Finish_r can send the end-of-request record: nginx then
                // ends the client's response unfinished rather than as a complete (but short) body.
                _ = shutdown(req.pointee.ipcFd, Int32(SHUT_RDWR))
            }
        } else if !response.body.isEmpty {
            FunctionRuntime.write(response.body, to: out)
        }
    }

    private func serveOnceCGI() -> Int32 {
        let params = ProcessInfo.processInfo.environment
        let (response, requestID) = process(params: params) { count in
            FileHandle.standardInput.readData(ofLength: count).withUnsafeBytes { Array($0) }
        }
        var bytes = Array(response.wireHead(requestID: requestID).utf8)
        bytes += response.body
        FileHandle.standardOutput.write(Data(bytes))
        if let writer = response.bodyWriter {
            _ = streamBody(writer, requestID: requestID) { chunk in
                FileHandle.standardOutput.write(Data(chunk))
                return true
            }
        }
        runAfterResponse(response, requestID: requestID)
        return 0
    }

    /// Runs a streamed response's writer after the head was sent; `chunk` sends bytes and says whether the
    /// connection took them. False when the body could not be finished (logged here: the status is already sent).
    private func streamBody(_ writer: Response.BodyWriter, requestID: String, chunk: ([UInt8]) -> Bool) -> Bool {
        do {
            try withoutActuallyEscaping(chunk) { send in
                try writer { bytes in
                    guard send(bytes) else { throw ResponseStreamClosed() }
                }
            }
            return true
        } catch is ResponseStreamClosed {
            logger.info("connection closed during a streamed response", ["request_id": .string(requestID)])
            return false
        } catch {
            logger.error("streamed response failed after its head was sent", [
                "request_id": .string(requestID), "error": .string(String(describing: error)),
            ])
            return false
        }
    }

    func runAfterResponse(_ response: Response, requestID: String) {
        guard let work = response.afterResponse else { return }
        do {
            try work()
        } catch {
            logger.error("after-response work failed", ["request_id": .string(requestID), "error": .string(String(describing: error))])
        }
    }

    /// Turns CGI parameters and a body reader into a response. Never throws: every failure is a response.
    public func process(params: [String: String], readBody: (Int) -> [UInt8]?) -> (Response, String) {
        let received = receive(params: params, readBody: readBody)
        let outcome: Result<Response, any Error>
        switch received.request {
        case .success(let request): outcome = Result { try router.handle(request) }
        case .failure(let error): outcome = .failure(error)
        }
        return (respond(to: received, with: outcome), received.requestID)
    }

    /// A request as read from its connection (or why it could not be read), with what its log line needs.
    struct Received {
        let requestID: String
        let method: String
        let path: String
        let started: UInt64
        let request: Result<Request, APIError>
    }

    func receive(params: [String: String], readBody: (Int) -> [UInt8]?) -> Received {
        let started = DispatchTime.now().uptimeNanoseconds
        let requestID = RequestID.make(from: params["HTTP_X_REQUEST_ID"])
        let method = params["REQUEST_METHOD"] ?? "GET"
        let path = FunctionRuntime.path(from: params)
        let request = Result { () throws(APIError) -> Request in
            let body = try readRequestBody(params: params, readBody: readBody)
            return Request(
                method: method, path: path, rawQuery: params["QUERY_STRING"] ?? "",
                headers: FunctionRuntime.headers(from: params), body: body,
                remoteAddress: params["REMOTE_ADDR"], requestID: requestID)
        }
        return Received(requestID: requestID, method: method, path: path, started: started, request: request)
    }

    /// The response for a handler's outcome: errors become the error contract (5xx logged); one log line per request.
    func respond(to received: Received, with outcome: Result<Response, any Error>) -> Response {
        var log: Logger { logger.with(["request_id": .string(received.requestID)]) }
        let requestID = received.requestID
        var response: Response
        switch outcome {
        case .success(let handled):
            response = handled
        case .failure(let error as APIError):
            response = .error(error, requestID: requestID)
        case .failure(let error as any APIErrorConvertible):
            let apiError = error.apiError
            if apiError.status >= 500 {
                log.error("request failed", ["error": .string(String(describing: error)), "code": .string(apiError.code.rawValue)])
            }
            response = .error(apiError, requestID: requestID)
        case .failure(let error):
            log.error("unhandled error", ["error": .string(String(describing: error)), "type": .string(String(describing: type(of: error)))])
            response = .error(.internalError(), requestID: requestID)
        }
        guard logger.level <= .info else { return response }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - received.started) / 1e6
        log.info("request", [
            "method": .string(received.method), "path": .string(received.path), "status": .int(response.status),
            "duration_ms": .double((elapsed * 1000).rounded() / 1000),
        ])
        return response
    }

    private func readRequestBody(params: [String: String], readBody: (Int) -> [UInt8]?) throws(APIError) -> [UInt8] {
        guard let raw = params["CONTENT_LENGTH"], !raw.isEmpty else { return [] }
        guard let length = Int(raw), length >= 0 else { throw APIError.malformed("Invalid Content-Length") }
        if length > maxBodyBytes { throw APIError.payloadTooLarge(limit: maxBodyBytes) }
        if length == 0 { return [] }
        guard let body = readBody(length), body.count == length else {
            throw APIError.malformed("Request body is shorter than its Content-Length")
        }
        return body
    }

    // MARK: CGI parameter helpers

    static func path(from params: [String: String]) -> String {
        if let uri = params["DOCUMENT_URI"], !uri.isEmpty { return uri }
        if let uri = params["REQUEST_URI"], !uri.isEmpty {
            let raw = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
            return raw.removingPercentEncoding ?? raw
        }
        if let info = params["PATH_INFO"], !info.isEmpty { return info }
        return "/"
    }

    /// `HTTP_X_REQUEST_ID` → `x-request-id`; `CONTENT_TYPE`/`CONTENT_LENGTH` included.
    static func headers(from params: [String: String]) -> [String: String] {
        var headers: [String: String] = [:]
        for (key, value) in params {
            if key.hasPrefix("HTTP_") {
                headers[headerName(key.utf8.dropFirst(5))] = value
            } else if key == "CONTENT_TYPE" || key == "CONTENT_LENGTH", !value.isEmpty {
                headers[headerName(key.utf8[...])] = value
            }
        }
        return headers
    }

    /// `X_MBX_APIKEY` → `x-mbx-apikey`, byte by byte (no Foundation string bridging on the hot path).
    static func headerName(_ bytes: Substring.UTF8View.SubSequence) -> String {
        String(decoding: bytes.map { b in b == 95 ? 45 : (b >= 65 && b <= 90 ? b + 32 : b) }, as: UTF8.self)
    }

    static func parameters(of envp: FCGX_ParamArray?) -> [String: String] {
        var params: [String: String] = [:]
        guard var cursor = envp else { return params }
        params.reserveCapacity(32)
        // Byte-level: split each `NAME=value` C string at its first `=` without an intermediate String.
        while let entry = cursor.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length + 1) { p in
                let bytes = UnsafeBufferPointer(start: p, count: length)
                if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                    params[String(decoding: UnsafeBufferPointer(rebasing: bytes[..<eq]), as: UTF8.self)] =
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[(eq + 1)...]), as: UTF8.self)
                }
            }
            cursor += 1
        }
        return params
    }

    static func read(_ count: Int, from stream: UnsafeMutablePointer<FCGX_Stream>?) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        let ok = buffer.withUnsafeMutableBufferPointer { buf -> Bool in
            while got < count {
                let n = buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: count) {
                    FCGX_GetStr($0 + got, Int32(count - got), stream)
                }
                if n <= 0 { return false }
                got += Int(n)
            }
            return true
        }
        return ok ? buffer : nil
    }

    /// Sends bytes on a FastCGI stream; false when the connection did not take them (nginx went away).
    @discardableResult
    static func write(_ bytes: [UInt8], to stream: UnsafeMutablePointer<FCGX_Stream>?) -> Bool {
        guard !bytes.isEmpty else { return true }
        return bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                FCGX_PutStr($0, Int32(buf.count), stream) == Int32(buf.count)
            }
        }
    }
}
