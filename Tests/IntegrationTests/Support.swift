import Core
import Database
import Foundation
import HTTPClient
import Testing

/// Every integration suite nests under this one so they run one at a time: one of them stops PostgreSQL.
@Suite(.serialized) struct Integration {}

/// The local stack started by `make test` (Tests/Stack/stack.sh writes .local/stack.env, which the Makefile exports).
enum Stack {
    static func env(_ name: String) -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            fatalError("\(name) is not set: run the integration tests through `make test` (the stack must be up)")
        }
        return value
    }

    static var baseURL: String { env("SIGNALBRIDGE_BASE_URL") }
    static var binDir: String { env("SIGNALBRIDGE_BIN_DIR") }
    static var stateDir: String { env("SIGNALBRIDGE_STATE_DIR") }
    static var stackScript: String { env("SIGNALBRIDGE_STACK") }

    static func secretFile(_ variable: String) -> Secret {
        let path = env(variable)
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Secret(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A connection as the schema owner (tests may create scratch schemas).
    static func ownerConnection() -> Connection {
        Connection(url: secretFile("TEST_DATABASE_URL_FILE"), applicationName: "integration-tests", logger: quietLogger)
    }

    /// A connection as the role the functions use.
    static func appConnection() -> Connection {
        Connection(url: secretFile("APP_DATABASE_URL_FILE"), applicationName: "integration-tests-app", logger: quietLogger)
    }

    static let quietLogger = Logger(label: "tests", level: .error, sink: .capturing())

    static func request(_ method: String, _ path: String, headers: [(name: String, value: String)] = [],
                        body: [UInt8] = []) throws -> HTTPResponse {
        try HTTPClient().send(HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body, timeout: 10))
    }

    static func json(_ response: HTTPResponse) throws -> [String: JSONValue] {
        guard case .object(let object)? = response.json() else {
            Issue.record("response is not a JSON object: \(response.text)")
            return [:]
        }
        return object
    }

    /// Asserts the error contract: exactly {code, message, details, request_id}, the id equal to the header.
    static func expectError(_ response: HTTPResponse, status: Int, code: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(response.status == status, "status", sourceLocation: sourceLocation)
        #expect(response.header("content-type")?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
        let body = try json(response)
        #expect(Set(body.keys) == ["code", "message", "details", "request_id"], "\(body)", sourceLocation: sourceLocation)
        #expect(body["code"] == .string(code), sourceLocation: sourceLocation)
        if case .string(let message)? = body["message"] { #expect(!message.isEmpty, sourceLocation: sourceLocation) }
        #expect(body["request_id"] == response.header("x-request-id").map(JSONValue.string), sourceLocation: sourceLocation)
    }

    /// Runs a command to completion (bounded by `timeout`), returning status and output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                    input: [UInt8] = [], timeout: TimeInterval = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment, input: input)
        guard let status = child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            _ = child.wait(timeout: 5)
            throw TestFailure("\(executable) did not finish within \(timeout) s")
        }
        return (status, child.stdout, child.stderr)
    }

    /// Polls `condition` until it holds or `timeout` passes. For waiting on other processes (a server coming
    /// back), never as a substitute for synchronising the code under test.
    static func eventually(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    /// A loopback TCP port nothing listens on at the moment of asking.
    static func freeLoopbackPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// PIDs listed in a spawn-fcgi pid file of the stack.
    static func pids(of function: String) -> [Int32] {
        let text = (try? String(contentsOfFile: "\(stateDir)/run/\(function).pid", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isNewline).compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
