import Core
import Database
import Foundation
import Runtime

/// Probes the components a deployment depends on and renders `/v1/health`.
/// `status` is `healthy` when every component is ok and `unhealthy` when the database is not
/// (nothing works without it); later components (exchanges, Telegram, reconciliation) add `degraded`.
struct HealthCheck {
    let database: Connection

    /// One probe: its status word and measurements.
    struct Probe {
        var ok: Bool
        var latencyMs: Double
        var error: String?
    }

    func probeDatabase() -> Probe {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            try database.query("SELECT 1", idempotent: true)
            return Probe(ok: true, latencyMs: HealthCheck.millis(since: started))
        } catch {
            return Probe(ok: false, latencyMs: HealthCheck.millis(since: started),
                         error: error.kind == .unavailable ? "unreachable" : "query failed (\(error.sqlState ?? "no sqlstate"))")
        }
    }

    func respond() -> Response {
        let db = probeDatabase()
        var dbCheck: [String: JSONValue] = ["status": .string(db.ok ? "ok" : "error"), "latency_ms": .double(db.latencyMs)]
        if let error = db.error { dbCheck["error"] = .string(error) }
        let body: JSONValue = [
            "status": .string(db.ok ? "healthy" : "unhealthy"),
            "version": .string(SignalBridgeVersion.current),
            "time": .string(Timestamp.iso8601(Date())),
            "components": ["database": .string(db.ok ? "ok" : "error")],
            "checks": ["database": .object(dbCheck)],
        ]
        return .json(body, status: db.ok ? 200 : 503)
    }

    static func millis(since start: UInt64) -> Double {
        (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3).rounded() / 1e3
    }
}
