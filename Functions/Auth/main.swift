import Core
import Database
import Foundation
import Runtime

// /v1/auth/signup, /login, /refresh, /logout: accounts and sessions (seed §3.1).
exit(FunctionRuntime.main(name: "Auth") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-auth", logger: logger)
    let auth = try AuthHandlers(config: config, db: db, logger: logger)
    var router = Router()
    router.post("/v1/auth/signup") { try auth.signup($0) }
    router.post("/v1/auth/login") { try auth.login($0) }
    router.post("/v1/auth/refresh") { try auth.refresh($0) }
    router.post("/v1/auth/logout") { try auth.logout($0) }
    return router
})
