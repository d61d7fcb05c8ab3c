import Core
import Foundation
import Testing

/// The runtime and nginx's edges, through the real nginx and the Probe function (Tests/Probe).
extension Integration {
    @Suite struct RoutingTests {
        @Test func unknownRouteIs404InTheContract() throws {
            try Stack.expectError(try Stack.request("GET", "/v1/no-such-thing"), status: 404, code: "REQ_4004")
            try Stack.expectError(try Stack.request("GET", "/"), status: 404, code: "REQ_4004")
            // Inside a function's prefix, the function's own router answers.
            try Stack.expectError(try Stack.request("GET", "/_probe/no-such-thing"), status: 404, code: "REQ_4004")
        }

        @Test func wrongMethodIs405WithAllow() throws {
            let response = try Stack.request("POST", "/v1/health", body: Array("{}".utf8))
            try Stack.expectError(response, status: 405, code: "REQ_4005")
            #expect(response.header("allow") == "GET")
            #expect(try Stack.json(response)["details"] == ["allowed": ["GET"]])
        }

        @Test func oversizedBodyIs413AtBothLimits() throws {
            // Over nginx's client_max_body_size: refused before any function runs.
            let huge = try Stack.request("POST", "/_probe/echo", body: [UInt8](repeating: 65, count: 300_000))
            try Stack.expectError(huge, status: 413, code: "REQ_4013")
            // Over the function's MAX_BODY_BYTES (64 KiB) but under nginx's cap: the runtime refuses it.
            let large = try Stack.request("POST", "/_probe/echo", body: [UInt8](repeating: 65, count: 100_000))
            try Stack.expectError(large, status: 413, code: "REQ_4013")
            #expect(try Stack.json(large)["details"] == ["limit_bytes": 65536])
            // At the limit it is accepted and read whole.
            let fits = try Stack.request("POST", "/_probe/echo", body: [UInt8](repeating: 65, count: 65536))
            #expect(fits.status == 200)
            #expect(try Stack.json(fits)["body_bytes"] == 65536)
        }

        @Test func throwingHandlerIs500AndTheProcessKeepsServing() throws {
            let pids = Stack.pids(of: "probe")
            #expect(pids.count == 2)
            for i in 0..<6 {
                let response = try Stack.request("GET", "/_probe/throw", headers: [("X-Request-ID", "it-throw-\(i)")])
                try Stack.expectError(response, status: 500, code: "SYS_5001")
            }
            var served: Set<Int> = []
            for _ in 0..<8 {
                let response = try Stack.request("GET", "/_probe/echo")
                #expect(response.status == 200)
                if case .int(let pid)? = try Stack.json(response)["pid"] { served.insert(pid) }
            }
            #expect(Stack.pids(of: "probe") == pids)
            #expect(served.isSubset(of: Set(pids.map(Int.init))))
            for pid in pids { #expect(kill(pid, 0) == 0, "process \(pid) is gone") }
            // The failure is in the function's log with its request id.
            let log = try String(contentsOfFile: "\(Stack.stateDir)/log/probe.log", encoding: .utf8)
            #expect(log.contains(#""request_id":"it-throw-5""#) && log.contains("unhandled error"))
        }

        @Test func thrownAPIErrorsKeepTheirCodeAndStatus() throws {
            try Stack.expectError(try Stack.request("GET", "/_probe/fail/EXCH_2005"), status: 422, code: "EXCH_2005")
            try Stack.expectError(try Stack.request("GET", "/_probe/fail/AUTH_1001"), status: 401, code: "AUTH_1001")
            try Stack.expectError(try Stack.request("GET", "/_probe/fail/SYS_5002"), status: 503, code: "SYS_5002")
        }

        @Test func jsonBodiesAreValidatedInTheContract() throws {
            let json = [("Content-Type", "application/json")]
            let ok = try Stack.request("POST", "/_probe/json", headers: json, body: Array(#"{"name":"n","count":2}"#.utf8))
            #expect(ok.status == 200)
            #expect(try Stack.json(ok)["count"] == 2)
            try Stack.expectError(try Stack.request("POST", "/_probe/json", headers: json, body: Array("{".utf8)), status: 400, code: "REQ_4000")
            let missing = try Stack.request("POST", "/_probe/json", headers: json, body: Array(#"{"name":"n"}"#.utf8))
            try Stack.expectError(missing, status: 422, code: "REQ_4022")
            #expect(try Stack.json(missing)["details"] == ["fields": [["field": "count", "error": "is required"]]])
            let wrongType = try Stack.request("POST", "/_probe/json", headers: json, body: Array(#"{"name":"n","count":"2"}"#.utf8))
            try Stack.expectError(wrongType, status: 422, code: "REQ_4022")
            try Stack.expectError(try Stack.request("POST", "/_probe/json", headers: [("Content-Type", "text/plain")], body: Array("x".utf8)),
                                  status: 415, code: "REQ_4015")
        }

        @Test func pathParametersAndQueryReachTheHandler() throws {
            let item = try Stack.json(try Stack.request("GET", "/_probe/items/abc-42?mode=full&x=a%20b"))
            #expect(item["parameters"] == ["id": "abc-42"])
            #expect(item["query"] == ["mode": "full", "x": "a b"])
            #expect(try Stack.json(try Stack.request("GET", "/_probe/items/special"))["parameters"] == [:])
        }
    }
}
