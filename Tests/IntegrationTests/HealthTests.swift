import Core
import Foundation
import Testing

extension Integration {
    @Suite struct HealthTests {
        @Test func healthyWithDatabaseLatency() throws {
            let response = try Stack.request("GET", "/v1/health")
            #expect(response.status == 200)
            let body = try Stack.json(response)
            // Healthy, or degraded when no reconciliation ran in the last 3 minutes (tests drive the jobs themselves).
            #expect(body["status"] == "healthy" || body["status"] == "degraded")
            #expect(body["version"] == .string(SignalBridgeVersion.current))
            #expect(body["components"]?["database"] == "ok")
            #expect(body["components"]?["binance"] == "ok" && body["components"]?["mexc"] == "ok")
            guard case .object(let checks)? = body["checks"], case .object(let db)? = checks["database"],
                  case .double(let latency)? = db["latency_ms"] else {
                Issue.record("no database latency in \(body)")
                return
            }
            #expect(db["status"] == "ok")
            #expect(latency >= 0 && latency < 5000)
        }

        @Test func requestIDIsEchoedOrMade() throws {
            let kept = try Stack.request("GET", "/v1/health", headers: [("X-Request-ID", "it-health-1")])
            #expect(kept.header("x-request-id") == "it-health-1")
            let made = try Stack.request("GET", "/v1/health", headers: [("X-Request-ID", "not ok!")])
            let id = try #require(made.header("x-request-id"))
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        }

        /// Stopping PostgreSQL turns health into 503 with `database: error`; when it returns, the same
        /// function processes recover by themselves (no restart).
        @Test func databaseDownIs503AndRecovers() throws {
            let before = Stack.pids(of: "health")
            #expect(!before.isEmpty)
            try Stack.run(Stack.stackScript, ["pg-stop"])
            var restarted = false
            defer { if !restarted { _ = try? Stack.run(Stack.stackScript, ["pg-start"]) } }

            for _ in 0..<3 {
                let down = try Stack.request("GET", "/v1/health")
                #expect(down.status == 503)
                let body = try Stack.json(down)
                #expect(body["status"] == "unhealthy")
                #expect(body["components"] == ["database": "error"])
                if case .object(let checks)? = body["checks"], case .object(let db)? = checks["database"] {
                    #expect(db["status"] == "error")
                    #expect(db["error"] == "unreachable")
                } else {
                    Issue.record("no database check in \(body)")
                }
            }

            let (status, _, stderr) = try Stack.run(Stack.stackScript, ["pg-start"])
            restarted = true
            #expect(status == 0, "\(stderr)")
            let recovered = try Stack.eventually(timeout: 30) {
                try Stack.request("GET", "/v1/health").status == 200
            }
            #expect(recovered)
            // Every process answers again: more requests than processes, all healthy.
            for _ in 0..<(before.count * 3) {
                #expect(try Stack.request("GET", "/v1/health").status == 200)
            }
            #expect(Stack.pids(of: "health") == before)
        }
    }
}
