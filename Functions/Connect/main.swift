import Core
import Database
import Foundation
import Runtime

// /v1/exchanges...: connect an exchange account (validated with the exchange before anything is stored),
// list, validate again, read balances, disconnect. Keys are sealed by the vault and never leave it.
exit(FunctionRuntime.main(name: "Connect") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-connect", logger: logger)
    let connect = try ConnectHandlers(config: config, db: db, logger: logger)
    var router = Router()
    router.get("/v1/exchanges") { try connect.list($0) }
    router.post("/v1/exchanges/{exchange}/connect") { try connect.connect($0) }
    router.delete("/v1/exchanges/{exchange}/disconnect") { try connect.disconnect($0) }
    router.post("/v1/exchanges/{exchange}/validate") { try connect.validate($0) }
    router.get("/v1/exchanges/{exchange}/balance") { try connect.balance($0) }
    return router
})
