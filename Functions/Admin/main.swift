import Core
import Database
import Foundation
import Runtime

// /v1/admin/...: users (list, tier, activation), webhook keys (create, list, revoke) and the global kill switch.
// Every route requires the admin role (403 AUTH_1003 otherwise).
exit(FunctionRuntime.main(name: "Admin") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-admin", logger: logger)
    let admin = try AdminHandlers(config: config, db: db, logger: logger)
    var router = Router()
    router.get("/v1/admin/users") { try admin.listUsers($0) }
    router.patch("/v1/admin/users/{id}") { try admin.updateUser($0) }
    router.get("/v1/admin/webhook-keys") { try admin.listKeys($0) }
    router.post("/v1/admin/webhook-keys") { try admin.createKey($0) }
    router.delete("/v1/admin/webhook-keys/{id}") { try admin.revokeKey($0) }
    router.get("/v1/admin/kill-switch") { try admin.killSwitch($0) }
    router.put("/v1/admin/kill-switch") { try admin.setKillSwitch($0) }
    return router
})
