import Accounts
import Core
import Database
import Foundation
import Runtime

/// `GET /v1/history.csv`: the history as an RFC 4180 file (`CSV`, formula-injection guard included), one record
/// per execution, newest first, the same rows `GET /v1/history` pages through. Streamed: read `pageSize` rows at
/// a time by keyset and written before the next page is read, so memory does not grow with the export. At most
/// `maxRows` rows (the newest); `X-Export-Truncated: true` says more matched (narrow with `from`/`to`).
enum HistoryCSV {
    static let pageSize = 500
    static let maxRows = 100_000

    static let columns = [
        "execution_id", "user_id", "created_at", "executed_at", "exchange", "symbol", "side", "status",
        "requested_quantity", "requested_price", "filled_quantity", "filled_price", "fees", "fees_currency", "error_message",
        "signal_id", "signal_timestamp", "signal_symbol", "signal_action", "signal_confidence", "events", "divergences",
    ]

    /// The response: the first page (and whether the cap truncates) is read before the head is sent, so a
    /// database failure then is still an error response; a failure on a later page cuts the transfer (see
    /// `Response.bodyWriter`).
    static func response(_ filter: HistoryFilter, store: HistoryStore) throws(DatabaseError) -> Response {
        let first = try store.page(filter, after: nil, limit: pageSize)
        var truncated = false
        if first.count == pageSize { truncated = try store.matches(moreThan: maxRows, filter) }
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "text/csv; charset=utf-8"),
            ("Content-Disposition", "attachment; filename=\"signalbridge-history.csv\""),
            ("X-Export-Truncated", truncated ? "true" : "false"),
        ]
        return .streamed(headers: headers) { write in
            try write(Array(CSV.header(HistoryCSV.columns).utf8))
            var page = first
            var written = 0
            var requested = HistoryCSV.pageSize
            while !page.isEmpty {
                var chunk = ""
                for entry in page { chunk += CSV.record(HistoryCSV.cells(entry)) }
                try write(Array(chunk.utf8))
                written += page.count
                guard page.count == requested, written < HistoryCSV.maxRows, let last = page.last else { break }
                requested = min(HistoryCSV.pageSize, HistoryCSV.maxRows - written)
                page = try store.page(filter, after: last.id, limit: requested)
            }
        }
    }

    /// One record, in `columns` order. Decimals, timestamps, ids and numbers are written as they are; every
    /// other field is text (guarded). `events` is the chain of states (`pending>submitted>filled`),
    /// `divergences` the kinds reconciliation found, `|`-separated.
    static func cells(_ e: HistoryEntry) -> [CSV.Cell] {
        func value(_ s: String?) -> CSV.Cell { s.map(CSV.Cell.value) ?? .empty }
        func text(_ s: String?) -> CSV.Cell { s.map(CSV.Cell.text) ?? .empty }
        func time(_ d: Date?) -> CSV.Cell { d.map { CSV.Cell.value(Timestamp.iso8601($0)) } ?? .empty }
        let events = e.events.map(\.toStatus).joined(separator: ">")
        let divergences = e.divergences.map(\.kind).joined(separator: "|")
        return [
            .value(e.id.uuidString.lowercased()), .value(e.userID.uuidString.lowercased()), time(e.createdAt), time(e.executedAt),
            .text(e.exchange), .text(e.symbol), .text(e.side), .text(e.status),
            value(e.requestedQuantity), value(e.requestedPrice), value(e.filledQuantity), value(e.filledPrice), value(e.fees),
            text(e.feesCurrency), text(e.errorMessage),
            .text(e.signalID), time(e.signalTimestamp), .text(e.signalSymbol), .value(String(e.signalAction)),
            .value("\(e.signalConfidence)"), .text(events), .text(divergences),
        ]
    }
}
