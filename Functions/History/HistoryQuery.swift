import Accounts
import Core
import Domain
import Foundation
import Identity
import Runtime

/// The query parameters of `GET /v1/history` and `GET /v1/history.csv`, checked together so one 422 names
/// every bad parameter: unknown or repeated ones, `scope`, `from`/`to`, `status`, `signal_id`, `exchange`, and
/// for the JSON list `limit` and `cursor`. After that, 403 when a non-admin asks for `scope=all`.
struct HistoryQuery {
    let filter: HistoryFilter
    let limit: Int
    let after: UUID?

    /// The parameters every history route takes; the paginated JSON list adds `limit` and `cursor`.
    static let filterNames: Set<String> = ["scope", "from", "to", "status", "signal_id", "exchange"]
    static let pageNames: Set<String> = ["limit", "cursor"]

    init(_ req: Request, session: UserSession, paginated: Bool) throws(APIError) {
        let allowed = paginated ? HistoryQuery.filterNames.union(HistoryQuery.pageNames) : HistoryQuery.filterNames
        var problems: [FieldProblem] = []

        var counts: [String: Int] = [:]
        var names: [String] = []
        for item in req.queryItems {
            if counts[item.name] == nil { names.append(item.name) }
            counts[item.name, default: 0] += 1
        }
        for name in names {
            if !allowed.contains(name) {
                problems.append(FieldProblem(name, "is not a known parameter"))
            } else if counts[name, default: 0] > 1 {
                problems.append(FieldProblem(name, "must be given at most once"))
            }
        }

        var all = false
        switch req.query("scope") {
        case nil, "mine"?: break
        case "all"?: all = true
        default: problems.append(FieldProblem("scope", "must be mine or all"))
        }
        let from = HistoryQuery.instant(req, "from", &problems)
        let to = HistoryQuery.instant(req, "to", &problems)
        if let from, let to, from > to { problems.append(FieldProblem("to", "must not be before from")) }
        let status = req.query("status")
        if let status, ExecutionStatus(rawValue: status) == nil { problems.append(FieldProblem("status", "is not an execution status")) }
        let signalID = req.query("signal_id")
        if let signalID, !HistoryQuery.isSignalID(signalID) {
            problems.append(FieldProblem("signal_id", "must be 1 to 50 characters without control characters"))
        }
        let exchange = req.query("exchange")
        if let exchange, !["binance", "mexc"].contains(exchange) { problems.append(FieldProblem("exchange", "must be binance or mexc")) }

        var limit = 50
        var after: UUID?
        if paginated {
            do { limit = try Render.limit(req) } catch { problems += HistoryQuery.fieldProblems(error) }
            do { after = try Render.cursor(req.query("cursor")) } catch { problems += HistoryQuery.fieldProblems(error) }
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        if all && !session.isAdmin { throw APIError(.forbidden, "Only an admin can see every user's history") }

        self.filter = HistoryFilter(userID: all ? nil : session.userID, from: from, to: to, status: status,
                                    signalID: signalID, exchange: exchange)
        self.limit = limit
        self.after = after
    }

    /// An RFC 3339 instant from 1970 to 9999 in UTC (nil when absent; a problem recorded when invalid). The upper
    /// bound matters: year 9999 with a negative offset is year 10000 in UTC, which would reach the database.
    static func instant(_ req: Request, _ name: String, _ problems: inout [FieldProblem]) -> Date? {
        guard let raw = req.query(name) else { return nil }
        guard let date = Timestamp.parse(raw), date.timeIntervalSince1970 >= 0, date.timeIntervalSince1970 < 253_402_300_800 else {
            problems.append(FieldProblem(name, "must be an RFC 3339 timestamp from 1970 to 9999"))
            return nil
        }
        return date
    }

    /// A `signal_id` as the signal contract stores it: 1–50 characters (Unicode scalars, as VARCHAR(50) counts),
    /// no control characters (a NUL could not even be sent to the database).
    static func isSignalID(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        return !scalars.isEmpty && scalars.count <= 50 && !scalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }

    /// The field problems of a 422 thrown by a shared check (`Render.limit`, `Render.cursor`), to be reported
    /// together with the others.
    static func fieldProblems(_ error: APIError) -> [FieldProblem] {
        (error.details?["fields"]?.array ?? []).compactMap { item -> FieldProblem? in
            guard let field = item["field"]?.string, let message = item["error"]?.string else { return nil }
            return FieldProblem(field, message)
        }
    }
}
