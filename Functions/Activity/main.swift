import Accounts
import Identity
import Core
import Database
import Foundation
import Runtime

// /v1/signals, /v1/executions, /v1/executions/{id}: what the model sent and what was done for the caller.
exit(FunctionRuntime.main(name: "Activity") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-activity", logger: logger)
    let sessions = try Sessions(config: config, db: db)
    let statuses: Set<String> = ["pending", "submitted", "partial", "filled", "cancelled", "rejected", "failed", "unknown", "dead_letter"]
    var router = Router()

    router.get("/v1/signals") { req in
        _ = try sessions.require(req)
        let limit = try Render.limit(req)
        var since: Date?
        if let raw = req.query("since") {
            guard let d = Timestamp.parse(raw) else { throw APIError.validation([FieldProblem("since", "must be an RFC 3339 timestamp")]) }
            since = d
        }
        return .json(.array(try ActivityStore(db: db).signals(limit: limit, since: since)))
    }

    router.get("/v1/executions") { req in
        let session = try sessions.require(req)
        let limit = try Render.limit(req)
        var problems: [FieldProblem] = []
        let exchange = req.query("exchange")
        if let exchange, !["binance", "mexc"].contains(exchange) { problems.append(FieldProblem("exchange", "must be binance or mexc")) }
        let status = req.query("status")
        if let status, !statuses.contains(status) { problems.append(FieldProblem("status", "is not an execution status")) }
        if !problems.isEmpty { throw APIError.validation(problems) }
        let after = try Render.cursor(req.query("cursor"))
        let items = try ActivityStore(db: db).executions(userID: session.userID, limit: limit, exchange: exchange, status: status, after: after)
        var response = Response.json(.array(items))
        if items.count == limit, let id = items.last?["id"]?.string {
            response.headers.append(("X-Next-Cursor", Render.cursor(id: id)))
        }
        return response
    }

    router.get("/v1/executions/{id}") { req in
        let session = try sessions.require(req)
        let id = try Render.uuid(req, "id")
        guard let detail = try ActivityStore(db: db).execution(userID: session.userID, id: id) else {
            throw APIError.notFound("No such execution")
        }
        return .json(detail)
    }
    return router
})
