import Core
import Foundation
import Testing

/// The function binaries as processes: FastCGI on FCGI_SOCKET, SIGTERM, one-shot CGI mode, start-up errors.
extension Integration {
    @Suite struct ProcessTests {
        var baseEnvironment: [String: String] {
            ["PATH": "/usr/bin:/bin", "DATABASE_URL_FILE": Stack.env("APP_DATABASE_URL_FILE")]
        }

        @Test func sigtermEndsAFunctionCleanly() throws {
            let socket = NSTemporaryDirectory() + "sb-health-\(UUID().uuidString.prefix(8)).sock"
            defer { unlink(socket) }
            let child = try ChildProcess(Stack.binDir + "/Health", environment: baseEnvironment.merging(["FCGI_SOCKET": socket]) { $1 })
            // Wait until it listens (the socket file appears), bounded.
            #expect(Stack.eventually(timeout: 10) { FileManager.default.fileExists(atPath: socket) })
            #expect(child.wait(timeout: 0) == nil, "exited early: \(child.stderr)")
            child.signal(SIGTERM)
            let status = child.wait(timeout: 10)
            #expect(status == 0)
            #expect(child.stderr.contains(#""msg":"shutting down""#))
        }

        /// Foundation's Process hands the child the test thread's mask, with SIGTERM blocked; the runtime
        /// unblocks signals at start so a function always honours SIGTERM.
        @Test func sigtermWorksEvenWhenLaunchedWithSignalsBlocked() throws {
            let socket = NSTemporaryDirectory() + "sb-health-\(UUID().uuidString.prefix(8)).sock"
            defer { unlink(socket) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Stack.binDir + "/Health")
            process.environment = baseEnvironment.merging(["FCGI_SOCKET": socket]) { $1 }
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(Stack.eventually(timeout: 10) { FileManager.default.fileExists(atPath: socket) })
            kill(process.processIdentifier, SIGTERM)
            #expect(Stack.eventually(timeout: 10) { !process.isRunning })
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0)
        }

        /// The webhook serves in groups with its own accept loop (FunctionRuntime+Grouped.swift): over a TCP
        /// socket too (loopback), request after request, and SIGTERM (read from a signalfd) still ends it with 0.
        @Test func theWebhooksGroupedLoopServesOverTCPAndStopsWithStatusZero() throws {
            let port = Stack.freeLoopbackPort()
            var env = baseEnvironment
            env["FCGI_SOCKET"] = "127.0.0.1:\(port)"
            env["SIGNALBRIDGE_MASTER_KEYS_FILE"] = Stack.env("SIGNALBRIDGE_MASTER_KEYS_FILE")
            let child = try ChildProcess(Stack.binDir + "/Webhook", environment: env)
            defer { if child.wait(timeout: 0) == nil { child.signal(SIGKILL) } }
            func post() -> String? {
                let request = ["REQUEST_METHOD": "POST", "REQUEST_URI": "/v1/webhook/signal", "CONTENT_LENGTH": "2",
                               "CONTENT_TYPE": "application/json"]
                guard let (status, out, _) = try? Stack.run("/usr/bin/cgi-fcgi", ["-bind", "-connect", "127.0.0.1:\(port)"],
                                                            environment: request, input: Array("{}".utf8), timeout: 10),
                      status == 0 else { return nil }
                return out
            }
            // Listening once a request is answered (bounded); then more, each its own answer.
            #expect(Stack.eventually(timeout: 10) { post() != nil }, "not serving: \(child.stderr)")
            for _ in 0..<3 {
                let out = try #require(post())
                #expect(out.hasPrefix("Status: 401 Unauthorized\r\n"))
                #expect(out.contains(#""code":"AUTH_1001""#))
            }
            #expect(child.stderr.contains("taking waiting requests together"))
            child.signal(SIGTERM)
            #expect(child.wait(timeout: 10) == 0)
            #expect(child.stderr.contains(#""msg":"shutting down""#))
        }

        @Test func runsOnceCGIStyleFromEnvironmentAndStdin() throws {
            var env = baseEnvironment
            env["REQUEST_METHOD"] = "POST"
            env["REQUEST_URI"] = "/_probe/echo?via=cgi"
            env["QUERY_STRING"] = "via=cgi"
            env["CONTENT_LENGTH"] = "5"
            env["HTTP_X_REQUEST_ID"] = "cgi-1"
            let (status, stdout, _) = try Stack.run(Stack.binDir + "/Probe", environment: env, input: Array("hello".utf8))
            #expect(status == 0)
            #expect(stdout.hasPrefix("Status: 200 OK\r\n"))
            #expect(stdout.contains("X-Request-ID: cgi-1\r\n"))
            #expect(stdout.contains(#""body_bytes":5"#))
            #expect(stdout.contains(#""query":{"via":"cgi"}"#))

            env["CONTENT_LENGTH"] = "70000"
            let (_, tooLarge, _) = try Stack.run(Stack.binDir + "/Probe", environment: env, input: [UInt8](repeating: 0, count: 70000))
            #expect(tooLarge.hasPrefix("Status: 413 "))
            #expect(tooLarge.contains(#""code":"REQ_4013""#))
        }

        @Test func healthIs503WhenTheDatabaseCannotBeReached() throws {
            var env = ["PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"]
            env["REQUEST_METHOD"] = "GET"
            env["REQUEST_URI"] = "/v1/health"
            let (status, stdout, stderr) = try Stack.run(Stack.binDir + "/Health", environment: env)
            #expect(status == 0)
            #expect(stdout.hasPrefix("Status: 503 Service Unavailable\r\n"))
            #expect(stdout.contains(#""components":{"database":"error"}"#))
            // The connection string (which may hold a password) is never logged.
            #expect(!stderr.contains("nobody@127.0.0.1"))
        }

        @Test func missingConfigurationStopsStartUpNamingTheVariable() throws {
            let (status, _, stderr) = try Stack.run(Stack.binDir + "/Health", environment: ["PATH": "/usr/bin:/bin"])
            #expect(status == 78)
            #expect(stderr.contains("DATABASE_URL"))
            #expect(stderr.contains(#""level":"error""#))
        }
    }
}
