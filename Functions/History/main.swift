import Accounts
import Core
import Database
import Foundation
import Identity
import Runtime

// GET /v1/history: the caller's signals → executions → events → reconciliation divergences, one item per
// execution, newest first, filtered and keyset-paginated (X-Next-Cursor); an admin may ask for scope=all.
// GET /v1/history.csv: the same rows as an RFC 4180 file, streamed page by page (HistoryCSV).
exit(FunctionRuntime.main(name: "History") { logger, config in
    let db = try Connection(config: config, applicationName: "signalbridge-history", logger: logger)
    let sessions = try Sessions(config: config, db: db)
    var router = Router()

    router.get("/v1/history") { req in
        let session = try sessions.require(req)
        let query = try HistoryQuery(req, session: session, paginated: true)
        let entries = try HistoryStore(db: db).page(query.filter, after: query.after, limit: query.limit)
        var response = Response.json(.array(entries.map(\.json)))
        if entries.count == query.limit, let last = entries.last {
            response.headers.append(("X-Next-Cursor", Render.cursor(id: last.id.uuidString.lowercased())))
        }
        return response
    }

    router.get("/v1/history.csv") { req in
        let session = try sessions.require(req)
        let query = try HistoryQuery(req, session: session, paginated: false)
        return try HistoryCSV.response(query.filter, store: HistoryStore(db: db))
    }
    return router
})
