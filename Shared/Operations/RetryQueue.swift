import Core
import Database
import Domain
import Engine
import Foundation

/// Settings of the retry job (docs/configuration.md).
public struct RetrySettings: Sendable {
    /// Automatic retries of a failed execution before it goes to the dead-letter queue (seed 004 §4.8).
    public var maxRetries = 3
    /// Backoff before retry n (0-based) is base × 2ⁿ, with a ±25 % jitter fixed per execution.
    public var backoffBase: TimeInterval
    /// Retries happen only while the signal is younger than this (a person's retry is exempt).
    public var signalMaxAge: TimeInterval

    public init(backoffBase: TimeInterval = 30, signalMaxAge: TimeInterval = 300) {
        self.backoffBase = backoffBase
        self.signalMaxAge = signalMaxAge
    }

    public static func fromConfig(_ config: Config) throws(ConfigError) -> RetrySettings {
        RetrySettings(backoffBase: TimeInterval(try config.double("RETRY_BACKOFF_SECONDS", default: 30, range: 0...3600)),
                      signalMaxAge: TimeInterval(try config.int("SIGNAL_MAX_AGE_SECONDS", default: 300, range: 5...86400)))
    }
}

/// One execution waiting in the dead-letter queue.
public struct DeadLetter: Sendable {
    public let id: UUID
    public let userID: UUID
    public let signalRef: String
    public let exchange: String
    public let symbol: String
    public let side: String
    public let retries: Int
    public let errorMessage: String?
    public let since: Date

    public var json: JSONValue {
        ["id": .string(id.uuidString.lowercased()), "user_id": .string(userID.uuidString.lowercased()), "signal_id": .string(signalRef),
         "exchange": .string(exchange), "symbol": .string(symbol), "side": .string(side), "retries": .int(retries),
         "error_message": errorMessage.map(JSONValue.string) ?? .null, "dead_letter_since": .string(Timestamp.iso8601(since))]
    }
}

/// Why a person's retry or cancel was not done.
public enum OrderActionError: Error, Equatable, Sendable {
    case notFound
    case notDeadLetter(status: String)
}

/// Failed executions and the dead-letter queue (seed 004 §4.8). Failed executions go back to the queue with
/// backoff while their signal is fresh; after `maxRetries` (or once the signal is stale) they move to
/// `dead_letter` with an alert and wait for a person (`retry`: back to the queue once; `cancel`: final).
///
/// An execution that was ever sent goes back through `unknown`, never straight to `pending`: even after an
/// error answer an order may exist (an unexpected reply is not proof of absence, and Binance accepts a client
/// order id again once the first order is closed), so the engine asks before it resends anything.
public struct RetryQueue {
    let db: Connection
    let settings: RetrySettings

    public init(db: Connection, settings: RetrySettings) {
        self.db = db
        self.settings = settings
    }

    /// Failed executions that are not retried any more (retries used up, or the signal is stale) → dead_letter,
    /// each with the operator alert and the user's notice. Returns the ids moved.
    @discardableResult
    public func deadLetterExhausted(actor: String) throws -> [UUID] {
        let rows = try db.query(RetryQueue.exhaustedSQL, [settings.signalMaxAge, settings.maxRetries])
        var moved: [UUID] = []
        for row in rows {
            let id = try row.uuid("id")
            let expired = try row.bool("expired") && (try row.int("retries")) < settings.maxRetries
            let what = "\(try row.string("side").uppercased()) \(try row.string("exchange_symbol")) on \(try row.string("exchange").uppercased())"
            let reason = expired ? "signal expired; not retried automatically" : "\(try row.int("retries")) retries failed"
            let done = try move(id, from: .failed, to: .deadLetter, reason: reason, actor: actor,
                                operatorNote: "Order \(id.uuidString.lowercased()) moved to dead-letter, needs manual action (\(what): \(reason)).",
                                userNote: "\(what) could not be placed (\(reason)). It waits in your dead-letter queue: retry or cancel it.")
            if done { moved.append(id) }
        }
        return moved
    }

    /// Failed executions whose backoff has passed and whose signal is fresh → back to the queue (`pending`, or
    /// `unknown` when an order may exist). Returns the ids requeued.
    @discardableResult
    public func requeueDue(actor: String) throws -> [UUID] {
        let rows = try db.query(RetryQueue.dueSQL, [settings.signalMaxAge, settings.maxRetries, settings.backoffBase])
        var moved: [UUID] = []
        for row in rows {
            let id = try row.uuid("id")
            let sent = try row.bool("sent")
            let n = try row.int("retries") + 1
            if try move(id, from: .failed, to: sent ? .unknown : .pending, retries: 1,
                        reason: "automatic retry \(n) of \(settings.maxRetries)\(sent ? " (sent before: asking the exchange first)" : "")", actor: actor) {
                moved.append(id)
            }
        }
        return moved
    }

    /// The dead-letter queue, oldest first; `userID` nil: everyone's (operator).
    public func list(userID: UUID?, limit: Int = 100) throws(DatabaseError) -> [DeadLetter] {
        try db.query(RetryQueue.listSQL, [userID, limit]).map { r throws(DatabaseError) in
            DeadLetter(id: try r.uuid("id"), userID: try r.uuid("user_id"), signalRef: try r.string("signal_ref"),
                       exchange: try r.string("exchange"), symbol: try r.string("exchange_symbol"), side: try r.string("side"),
                       retries: try r.int("retries"), errorMessage: try r.optionalString("error_message"), since: try r.date("updated_at"))
        }
    }

    /// A person's retry: dead_letter → the queue once more (the signal's age gate does not apply). `owner` nil:
    /// the operator (any execution).
    /// `note`: the person's reason, recorded in the event.
    public func retry(_ id: UUID, owner: UUID?, actor: String, note: String? = nil) throws -> Result<UUID, OrderActionError> {
        guard let row = try db.queryOne(RetryQueue.findSQL, [id, owner]) else { return .failure(.notFound) }
        let status = try row.string("status")
        guard status == ExecutionStatus.deadLetter.rawValue else { return .failure(.notDeadLetter(status: status)) }
        let sent = try row.bool("sent")
        // Once: its retries count as used up, so another failure goes straight back to the dead-letter queue.
        guard try move(id, from: .deadLetter, to: sent ? .unknown : .pending, atLeastRetries: settings.maxRetries, manual: true,
                       reason: "manual retry\(sent ? " (sent before: asking the exchange first)" : "")\(note.map { ": \($0)" } ?? "")",
                       actor: String(actor.prefix(50))) else {
            return .failure(.notDeadLetter(status: try db.queryOne(RetryQueue.findSQL, [id, owner])?.string("status") ?? "unknown"))
        }
        return .success(id)
    }

    /// A person's cancel: dead_letter → cancelled, final.
    public func cancel(_ id: UUID, owner: UUID?, actor: String, note: String? = nil) throws -> Result<UUID, OrderActionError> {
        guard let row = try db.queryOne(RetryQueue.findSQL, [id, owner]) else { return .failure(.notFound) }
        let status = try row.string("status")
        guard status == ExecutionStatus.deadLetter.rawValue else { return .failure(.notDeadLetter(status: status)) }
        guard try move(id, from: .deadLetter, to: .cancelled, reason: "cancelled by hand\(note.map { ": \($0)" } ?? "")", actor: String(actor.prefix(50)),
                       errorMessage: "Cancelled from the dead-letter queue") else {
            return .failure(.notDeadLetter(status: try db.queryOne(RetryQueue.findSQL, [id, owner])?.string("status") ?? "unknown"))
        }
        return .success(id)
    }

    /// A guarded transition of an execution nobody holds a claim on, with its event and notifications, in one
    /// statement. False when its status changed first.
    func move(_ id: UUID, from: ExecutionStatus, to: ExecutionStatus, retries: Int = 0, atLeastRetries: Int = 0, manual: Bool? = nil,
              reason: String, actor: String,
              errorMessage: String? = nil, operatorNote: String? = nil, userNote: String? = nil) throws -> Bool {
        try ExecutionStateMachine.check(from: from, to: to)
        let kind: String? = to == .deadLetter ? "dead_letter" : nil
        return try db.queryOne(RetryQueue.moveSQL, [
            id, from.rawValue, to.rawValue, retries, manual, errorMessage, reason, actor,
            operatorNote.flatMap { _ in kind }, operatorNote, userNote.flatMap { _ in kind }, userNote, atLeastRetries,
        ]) != nil
    }

    static let moveSQL = """
        WITH moved AS (
            UPDATE executions e SET status = $3::varchar, updated_at = now(), next_attempt_at = now(),
                retries = GREATEST(e.retries + $4::int, $13::int),
                retried_at = CASE WHEN $3::varchar IN ('pending', 'unknown') THEN now() ELSE e.retried_at END,
                manual_retry = COALESCE($5::boolean, e.manual_retry),
                not_found_count = CASE WHEN $3::varchar = 'unknown' THEN 0 ELSE e.not_found_count END,
                unknown_since = CASE WHEN $3::varchar = 'unknown' THEN now() ELSE e.unknown_since END,
                error_message = COALESCE($6::text, e.error_message)
            FROM signals s
            WHERE e.id = $1::uuid AND e.status = $2::varchar AND s.id = e.signal_id
              AND (e.lease_expires_at IS NULL OR e.lease_expires_at < now())
            RETURNING e.id, e.user_id, s.signal_id AS signal_ref
        ), event AS (
            INSERT INTO execution_events (execution_id, from_status, to_status, reason, actor, correlation_id)
            SELECT id, $2::varchar, $3::varchar, $7::text, $8::varchar, signal_ref FROM moved
        ), operator_note AS (
            INSERT INTO notifications (user_id, kind, text) SELECT NULL, $9::varchar, $10::text FROM moved WHERE $10::text IS NOT NULL
        ), user_note AS (
            INSERT INTO notifications (user_id, kind, text) SELECT user_id, $11::varchar, $12::text FROM moved WHERE $12::text IS NOT NULL
        )
        SELECT id FROM moved
        """

    static let exhaustedSQL = """
        SELECT e.id, e.side, e.exchange, e.exchange_symbol, e.retries,
               (NOT e.manual_retry AND s.timestamp <= now() - make_interval(secs => $1::float8)) AS expired
        FROM executions e JOIN signals s ON s.id = e.signal_id
        WHERE e.status = 'failed' AND (e.lease_expires_at IS NULL OR e.lease_expires_at < now())
          AND (e.retries >= $2::int OR (NOT e.manual_retry AND s.timestamp <= now() - make_interval(secs => $1::float8)))
        ORDER BY e.updated_at LIMIT 1000
        """

    /// Due: the backoff base × 2^retries has passed since it failed, stretched by a jitter of 0.75–1.25 derived
    /// from its id (stable across runs, so executions that failed together spread out).
    static let dueSQL = """
        SELECT e.id, e.retries,
               EXISTS (SELECT 1 FROM execution_events v WHERE v.execution_id = e.id AND v.to_status = 'submitted') AS sent
        FROM executions e JOIN signals s ON s.id = e.signal_id
        WHERE e.status = 'failed' AND e.retries < $2::int
          AND (e.manual_retry OR s.timestamp > now() - make_interval(secs => $1::float8))
          AND (e.lease_expires_at IS NULL OR e.lease_expires_at < now())
          AND e.updated_at <= now() - make_interval(secs => $3::float8 * power(2, e.retries)
                                                     * (0.75 + get_byte(decode(md5(e.id::text), 'hex'), 0) / 510.0))
        ORDER BY e.updated_at LIMIT 1000
        """

    static let listSQL = """
        SELECT e.id, e.user_id, s.signal_id AS signal_ref, e.exchange, e.exchange_symbol, e.side, e.retries, e.error_message, e.updated_at
        FROM executions e JOIN signals s ON s.id = e.signal_id
        WHERE e.status = 'dead_letter' AND ($1::uuid IS NULL OR e.user_id = $1::uuid)
        ORDER BY e.updated_at, e.id LIMIT $2
        """

    static let findSQL = """
        SELECT e.status, EXISTS (SELECT 1 FROM execution_events v WHERE v.execution_id = e.id AND v.to_status = 'submitted') AS sent
        FROM executions e WHERE e.id = $1::uuid AND ($2::uuid IS NULL OR e.user_id = $2::uuid)
        """
}
