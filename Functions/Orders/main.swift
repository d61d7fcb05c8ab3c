import Accounts
import Core
import Database
import Engine
import Foundation
import Identity
import Operations
import Runtime

// POST /v1/orders/{id}/retry and /v1/orders/{id}/cancel: a person's decision on an execution in the dead-letter
// queue (owner or admin; only from dead_letter). GET /v1/orders/dead-letter lists the queue (own; admin: all).
// A retry is placed right after the response, by this process (the scheduled sweep would otherwise within a minute).
exit(FunctionRuntime.main(name: "Orders") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-orders", logger: logger)
    let sessions = try Sessions(config: config, db: db)
    let queue = RetryQueue(db: db, settings: try RetrySettings.fromConfig(config))
    let engine = try ExecutionEngine(config: config, logger: logger)
    var router = Router()

    /// An optional body: nothing, or `{"reason": "…"}` (recorded with the event).
    func reason(_ req: Request) throws(APIError) -> String? {
        guard !req.body.isEmpty else { return nil }
        var body = try FieldReader(req, allowed: ["reason"])
        let reason = body.string("reason", maxLength: 500)
        try body.finish()
        return reason
    }

    func refuse(_ error: OrderActionError, _ verb: String) -> APIError {
        switch error {
        case .notFound: return APIError.notFound("No such order")
        case .notDeadLetter(let status):
            return APIError(.conflict, "Only an order in the dead-letter queue can be \(verb); this one is \(status)",
                            details: ["status": .string(status)])
        }
    }

    func actor(_ session: UserSession) -> String {
        (session.isAdmin ? "admin:" : "user:") + session.userID.uuidString.lowercased()
    }

    router.get("/v1/orders/dead-letter") { req in
        let session = try sessions.require(req)
        let limit = try Render.limit(req)
        let all = session.isAdmin && req.query("scope") == "all"
        if let scope = req.query("scope"), scope != "all", scope != "mine" {
            throw APIError.validation([FieldProblem("scope", "must be mine or all")])
        }
        if req.query("scope") == "all", !session.isAdmin { throw APIError(.forbidden, "Only an admin can list every user's dead-letters") }
        return .json(.array(try queue.list(userID: all ? nil : session.userID, limit: limit).map(\.json)))
    }

    router.post("/v1/orders/{id}/retry") { req in
        let session = try sessions.require(req)
        let id = try Render.uuid(req, "id")
        let why = try reason(req)
        switch try queue.retry(id, owner: session.isAdmin ? nil : session.userID, actor: actor(session), note: why) {
        case .failure(let error): throw refuse(error, "retried")
        case .success:
            logger.warning("dead-letter retried", ["request_id": .string(req.requestID), "execution_id": .string(id.uuidString.lowercased()),
                                                   "by": .string(session.userID.uuidString.lowercased())])
            var response = Response.json(["id": .string(id.uuidString.lowercased()), "status": "queued",
                                          "message": "Queued for one more attempt; GET /v1/executions/{id} shows the outcome"], status: 202)
            response.afterResponse = { engine.run(signal: nil, execution: id, workers: 1) }
            return response
        }
    }

    router.post("/v1/orders/{id}/cancel") { req in
        let session = try sessions.require(req)
        let id = try Render.uuid(req, "id")
        let why = try reason(req)
        switch try queue.cancel(id, owner: session.isAdmin ? nil : session.userID, actor: actor(session), note: why) {
        case .failure(let error): throw refuse(error, "cancelled")
        case .success:
            logger.warning("dead-letter cancelled", ["request_id": .string(req.requestID), "execution_id": .string(id.uuidString.lowercased()),
                                                     "by": .string(session.userID.uuidString.lowercased())])
            return .json(["id": .string(id.uuidString.lowercased()), "status": "cancelled"])
        }
    }
    return router
})
