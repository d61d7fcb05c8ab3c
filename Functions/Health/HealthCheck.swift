import Core
import Database
import Engine
import Exchange
import Foundation
import HTTPClient
import Operations
import Runtime

/// Probes the components a deployment depends on and renders `/v1/health` (seed 004 §4.13) and `/metrics`.
///
/// `unhealthy` (503) when the database is down (nothing works without it); `degraded` (200) when anything else
/// is not ok: Telegram (alerts would not arrive), an exchange's REST API (`paused` after a per-address rate
/// limit: then it is not called, since any request in the window could turn the 429 into a ban), or the
/// reconciliation (`stale` when its last success is older than 3 minutes, `error` when its latest run failed);
/// `healthy` otherwise.
struct HealthCheck {
    let database: Connection
    let telegram: TelegramClient
    let exchanges: [(name: String, baseURL: String)]
    let http = HTTPClient()
    let started = Date()

    init(database: Connection, config: Config) throws(ConfigError) {
        self.database = database
        var settings = try TelegramSettings.fromConfig(config)
        settings.timeout = min(settings.timeout, 2)
        telegram = TelegramClient(settings: settings)
        let env = try ExchangeEnvironment.fromConfig(config)
        exchanges = [("binance", env.binanceBaseURL), ("mexc", env.mexcBaseURL)]
    }

    /// One probe: its status word and measurements.
    struct Probe {
        var status: String
        var latencyMs: Double
        var error: String?
        var pausedUntil: Date?
        var ok: Bool { status == "ok" }
        var json: JSONValue {
            var o: [String: JSONValue] = ["status": .string(status), "latency_ms": .double(latencyMs)]
            if let error { o["error"] = .string(error) }
            if let pausedUntil { o["paused_until"] = .string(Timestamp.iso8601(pausedUntil)) }
            return .object(o)
        }
    }

    func probeDatabase() -> Probe {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            try database.query("SELECT 1", idempotent: true)
            return Probe(status: "ok", latencyMs: HealthCheck.millis(since: started))
        } catch {
            return Probe(status: "error", latencyMs: HealthCheck.millis(since: started),
                         error: error.kind == .unavailable ? "unreachable" : "query failed (\(error.sqlState ?? "no sqlstate"))")
        }
    }

    func probeTelegram() -> Probe {
        guard telegram.settings.isConfigured else { return Probe(status: "not_configured", latencyMs: 0, error: "TELEGRAM_BOT_TOKEN is not set") }
        let started = DispatchTime.now().uptimeNanoseconds
        switch telegram.probe() {
        case .success: return Probe(status: "ok", latencyMs: HealthCheck.millis(since: started))
        case .failure(let f): return Probe(status: "error", latencyMs: HealthCheck.millis(since: started), error: f.message)
        }
    }

    /// `GET /api/v3/ping` (weight 1 on both exchanges), 2 s at most.
    func probeExchange(_ baseURL: String) -> Probe {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let r = try http.send(HTTPRequest(url: baseURL + "/api/v3/ping", timeout: 2))
            return r.status == 200 ? Probe(status: "ok", latencyMs: HealthCheck.millis(since: started))
                : Probe(status: "error", latencyMs: HealthCheck.millis(since: started), error: "HTTP \(r.status)")
        } catch {
            return Probe(status: "error", latencyMs: HealthCheck.millis(since: started), error: error.kind == .timeout ? "timeout" : "unreachable")
        }
    }

    func respond() -> Response {
        let db = probeDatabase()
        var components: [String: JSONValue] = ["database": .string(db.status)]
        var checks: [String: JSONValue] = ["database": db.json]
        guard db.ok else {
            return .json(["status": "unhealthy", "version": .string(SignalBridgeVersion.current), "time": .string(Timestamp.iso8601(Date())),
                          "components": .object(components), "checks": .object(checks)], status: 503)
        }
        let tg = probeTelegram()
        components["telegram"] = .string(tg.status)
        checks["telegram"] = tg.json
        var degraded = !tg.ok
        let paused = (try? ExchangePauses(db: database).active()) ?? [:]
        for (name, url) in exchanges {
            let p = paused[name].map { pause in
                Probe(status: "paused", latencyMs: 0, error: "not called while paused: \(pause.reason)",
                      pausedUntil: pause.until)
            } ?? probeExchange(url)
            components[name] = .string(p.status)
            checks[name] = p.json
            degraded = degraded || !p.ok
        }
        var metrics: [String: JSONValue] = ["uptime_hours": .double((Date().timeIntervalSince(started) / 36).rounded() / 100)]
        do {
            let s = try OperationsMetrics(db: database).snapshot()
            let recon = s.reconciliationState()
            components["reconciliation"] = .string(recon)
            degraded = degraded || recon != "ok"
            metrics["last_reconciliation"] = s.lastReconciliationAt.map { .string(Timestamp.iso8601($0)) } ?? .null
            metrics["last_successful_reconciliation"] = s.lastReconciliationSuccessAt.map { .string(Timestamp.iso8601($0)) } ?? .null
            metrics["executions_in_flight"] = .int(s.executionsInFlight)
            metrics["dead_letters"] = .int(s.deadLetters)
            metrics["kill_switch_active"] = .bool(s.killSwitchEngaged)
            metrics["outbox_waiting"] = .int(s.outboxOpen)
        } catch {
            components["reconciliation"] = "error"
            checks["reconciliation"] = ["status": "error", "error": .string("figures unreadable: \(error.kind)")]
            degraded = true
        }
        let now = Date()
        if let pnl = try? OperationsMetrics(db: database).realizedPnL(from: Calendar.utc.startOfDay(for: now), to: now.addingTimeInterval(1)) {
            metrics["daily_pnl"] = .object(pnl.byQuoteAsset.mapValues { .string(ExactDecimal.text($0)) })
            metrics["daily_pnl_usdt"] = .string(ExactDecimal.text(pnl.byQuoteAsset["USDT"] ?? 0))
        }
        return .json(["status": .string(degraded ? "degraded" : "healthy"), "version": .string(SignalBridgeVersion.current),
                      "time": .string(Timestamp.iso8601(Date())), "components": .object(components), "checks": .object(checks),
                      "metrics": .object(metrics)], status: 200)
    }

    /// Prometheus text exposition (version 0.0.4).
    func metrics() throws -> Response {
        let s = try OperationsMetrics(db: database).snapshot(detailed: true)
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(value)\n" }
        }
        let now = Date()
        metric("signalbridge_up", "gauge", "1 when the database answers.", [("", "1")])
        metric("signalbridge_executions", "gauge", "Executions by status.",
               ExecutionStatusNames.all.map { ("status=\"\($0)\"", String(s.executionsByStatus[$0] ?? 0)) })
        metric("signalbridge_executions_in_flight", "gauge", "Executions pending, submitted, partial or unknown.", [("", String(s.executionsInFlight))])
        metric("signalbridge_dead_letters", "gauge", "Executions waiting in the dead-letter queue.", [("", String(s.deadLetters))])
        metric("signalbridge_kill_switch_engaged", "gauge", "1 when trading is halted by the kill switch.", [("", s.killSwitchEngaged ? "1" : "0")])
        let paused = try ExchangePauses(db: database).active()
        metric("signalbridge_exchange_paused_seconds", "gauge", "Seconds left of an exchange's pause after a rate limit (0: not paused).",
               exchanges.map { ("exchange=\"\($0.name)\"", String(Int(max(0, paused[$0.name]?.until.timeIntervalSince(now) ?? 0).rounded(.up)))) })
        metric("signalbridge_signals_total", "counter", "Signals received.", [("", String(s.signalsTotal))])
        metric("signalbridge_notifications_total", "counter", "Outbox notifications by outcome (open: not yet delivered).",
               s.notificationsByOutcome.keys.sorted().map { ("outcome=\"\($0)\"", String(s.notificationsByOutcome[$0]!)) })
        metric("signalbridge_outbox_waiting", "gauge", "Notifications not yet delivered.", [("", String(s.outboxOpen))])
        metric("signalbridge_reconciliation_runs_total", "counter", "Reconciliation runs by status.",
               ["success", "error"].map { ("status=\"\($0)\"", String(s.reconciliationRunsByStatus[$0] ?? 0)) })
        metric("signalbridge_reconciliation_divergences_total", "counter", "Distinct divergences found.", [("", String(s.divergencesTotal))])
        metric("signalbridge_last_reconciliation_age_seconds", "gauge", "Seconds since the last successful reconciliation (-1: never).",
               [("", s.lastReconciliationSuccessAt.map { String(Int(now.timeIntervalSince($0))) } ?? "-1")])
        let pnl = try OperationsMetrics(db: database).realizedPnL(from: Calendar.utc.startOfDay(for: now), to: now.addingTimeInterval(1))
        metric("signalbridge_daily_realized_pnl", "gauge", "Realised PnL today (UTC) per quote asset, before fees.",
               pnl.byQuoteAsset.keys.sorted().map { ("quote=\"\($0)\"", ExactDecimal.text(pnl.byQuoteAsset[$0]!)) })
        var response = Response(status: 200, body: Array(out.utf8))
        response.headers.append(("Content-Type", "text/plain; version=0.0.4; charset=utf-8"))
        return response
    }

    static func millis(since start: UInt64) -> Double {
        (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3).rounded() / 1e3
    }
}

/// Every execution status, for metrics that must list zeros too.
enum ExecutionStatusNames {
    static let all = ["pending", "submitted", "partial", "filled", "cancelled", "rejected", "failed", "unknown", "dead_letter"]
}

extension Calendar {
    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()
}
