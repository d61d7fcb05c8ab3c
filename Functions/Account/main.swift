import Core
import Database
import Foundation
import Runtime

// /v1/users/me (GET, PATCH), /v1/trading/config (GET, PUT), /v1/trading/toggle (POST): the caller's own
// profile limits and trading strategy (seed §3.2, §4.1, US-02).
exit(FunctionRuntime.main(name: "Account") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-account", logger: logger)
    let account = try AccountHandlers(config: config, db: db)
    var router = Router()
    router.get("/v1/users/me") { try account.profile($0) }
    router.patch("/v1/users/me") { try account.updateProfile($0) }
    router.get("/v1/trading/config") { try account.tradingConfig($0) }
    router.put("/v1/trading/config") { try account.replaceTradingConfig($0) }
    router.post("/v1/trading/toggle") { try account.toggle($0) }
    return router
})
