import Core
import Database
import Foundation
import Identity
import Operations
import Runtime

// POST /v1/reconciliation/run (admin): the scheduled reconciliation's code, now, under the same lock (409 while
// another run holds it). GET /v1/reconciliation/history and /v1/reconciliation/latest (admin): recorded runs.
exit(FunctionRuntime.main(name: "Reconciliation") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-reconciliation", logger: logger)
    let sessions = try Sessions(config: config, db: db)
    let reconciler = try Reconciler(config: config, logger: logger)
    let store = ReconciliationStore(db: db)
    var router = Router()

    router.post("/v1/reconciliation/run") { req in
        let admin = try sessions.requireAdmin(req)
        if !req.body.isEmpty {
            var body = try FieldReader(req, allowed: [])
            try body.finish()
        }
        logger.info("reconciliation requested", ["request_id": .string(req.requestID), "admin_id": .string(admin.userID.uuidString.lowercased())])
        switch try reconciler.run(trigger: "api") {
        case .busy:
            throw APIError(.conflict, "A reconciliation is already running; see GET /v1/reconciliation/latest when it ends")
        case .ran(let run):
            guard let recorded = try store.run(id: run.id) else { throw APIError.internalError() }
            return .json(recorded)
        }
    }

    router.get("/v1/reconciliation/history") { req in
        _ = try sessions.requireAdmin(req)
        let limit = try Render.limit(req)
        var before: Date?
        if let raw = req.query("before") {
            guard let d = Timestamp.parse(raw), d.timeIntervalSince1970 >= 0 else {
                throw APIError.validation([FieldProblem("before", "must be an RFC 3339 timestamp from 1970 on")])
            }
            before = d
        }
        return .json(.array(try store.history(limit: limit, before: before)))
    }

    router.get("/v1/reconciliation/latest") { req in
        _ = try sessions.requireAdmin(req)
        guard let latest = try store.latest() else { throw APIError.notFound("No reconciliation has run yet") }
        return .json(latest)
    }
    return router
})
