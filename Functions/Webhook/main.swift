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
    if groupLimit > 1 {
        let routes = router
        router.group(upTo: groupLimit) { webhook.receiveTogether($0, routes: routes) }
    }
    return router
})
