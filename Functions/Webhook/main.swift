import Core
import Database
import Engine
import Foundation
import Runtime

// POST /v1/webhook/signal: the ML system's signals. Authenticate, validate, store once, fan out to every
// eligible (user, exchange) in one transaction, acknowledge in milliseconds — then place the orders after
// the response has been sent (FCGX_Finish_r), never delaying it. HOLD signals waiting at the same moment are
// stored together (HoldSignalsTogether.swift).
exit(FunctionRuntime.main(name: "Webhook") { logger, config in
    // Generic plans for its few prepared statements: the fan-out statement is costly to plan, and a custom plan
    // per request (PostgreSQL's default for the first executions and whenever it guesses better) re-plans it.
    let db = try Connection(config: config, applicationName: "signalbridge-webhook", logger: logger,
                            settings: ["plan_cache_mode": "force_generic_plan"])
    let webhook = try SignalWebhook(config: config, db: db, engine: try ExecutionEngine(config: config, logger: logger), logger: logger)
    let groupLimit = try config.int("WEBHOOK_GROUP_LIMIT", default: 32, range: 1...256)
    var router = Router()
    router.post("/v1/webhook/signal") { try webhook.receive($0) }
    // Always the grouped loop: it also serves the connections nginx keeps open to the webhook (libfcgi's own loop
    // would serve one kept connection only, until nginx closed it). A limit of 1 only stops storing signals together.
    let routes = router
    router.group(upTo: max(groupLimit, 2)) { requests in
        groupLimit > 1 ? webhook.receiveTogether(requests, routes: routes) : Array(repeating: nil, count: requests.count)
    }
    return router
})
