import Core
import Database
import Foundation
import Runtime

// GET /v1/health: is this deployment able to serve? 200 when every component is ok, 503 otherwise.
exit(FunctionRuntime.main(name: "Health") { logger, config in
    let check = HealthCheck(database: try Connection(config: config, applicationName: "signalbridge-health", logger: logger))
    var router = Router()
    router.get("/v1/health") { _ in check.respond() }
    return router
})
