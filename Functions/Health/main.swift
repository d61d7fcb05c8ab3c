import Core
import Database
import Foundation
import Runtime

// GET /v1/health: is this deployment able to serve? 200 healthy or degraded, 503 unhealthy (database down).
// GET /metrics: the same figures and counters by state in Prometheus text format.
exit(FunctionRuntime.main(name: "Health") { logger, config in
    let check = try HealthCheck(database: try Connection(config: config, applicationName: "signalbridge-health", logger: logger), config: config)
    var router = Router()
    router.get("/v1/health") { _ in check.respond() }
    router.get("/metrics") { _ in try check.metrics() }
    return router
})
