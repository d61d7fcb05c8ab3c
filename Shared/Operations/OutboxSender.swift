import Core
import Database
import Foundation

/// Delivers the notification outbox (rows written with the events that caused them) to Telegram.
///
/// Rows are claimed in small batches with `FOR UPDATE SKIP LOCKED` and a lease; right before each send the lease
/// is renewed, fenced on this sender's claim (its `attempts` value), and every close or postpone is fenced the
/// same way, so any number of senders (every scheduled job runs one) share the work and a sender whose lease ran
/// out never sends or closes a row another sender took over. The one
/// window left: a crash after Telegram accepted a message and before the row is closed; the lease expires and it
/// is sent again (Telegram has no idempotency key). Rows older than a day expire unsent rather than arrive late.
public struct OutboxSender {
    let db: Connection
    let telegram: TelegramClient
    let logger: Logger
    /// Telegram allows about 30 messages a second per bot; stay under it.
    var pause: TimeInterval = 0.04

    public init(db: Connection, telegram: TelegramClient, logger: Logger) {
        self.db = db
        self.telegram = telegram
        self.logger = logger
    }

    /// What one delivery pass did.
    public struct Summary: Sendable, Equatable {
        public var sent = 0, noChat = 0, refused = 0, failed = 0, expired = 0
        public var json: JSONValue {
            ["sent": .int(sent), "no_chat": .int(noChat), "refused": .int(refused), "failed": .int(failed), "expired": .int(expired)]
        }
    }

    static let expireSQL = """
        WITH expired AS (
            UPDATE notifications SET closed_at = now(), outcome = 'expired', lease_until = NULL
            WHERE closed_at IS NULL AND created_at < now() - interval '24 hours' AND (lease_until IS NULL OR lease_until < now())
            RETURNING id
        )
        SELECT count(*)::int AS n FROM expired
        """

    static let claimSQL = """
        WITH next AS (
            SELECT id FROM notifications
            WHERE closed_at IS NULL AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
        )
        UPDATE notifications n SET lease_until = now() + interval '2 minutes', attempts = n.attempts + 1
        FROM next WHERE n.id = next.id
        RETURNING n.id, n.user_id, n.kind, n.text, n.attempts,
                  (SELECT u.telegram_chat_id FROM users u WHERE u.id = n.user_id) AS user_chat
        """

    /// Right before a send: renew this sender's lease, fenced on its claim (`attempts`). Nothing returned: the
    /// lease ran out and another sender took the row (it sends it; this one must not).
    static let renewSQL = """
        UPDATE notifications SET lease_until = now() + interval '2 minutes'
        WHERE id = $1 AND attempts = $2 AND closed_at IS NULL RETURNING id
        """

    static let closeSQL = """
        UPDATE notifications SET closed_at = now(), outcome = $2::varchar, sent_at = CASE WHEN $2::varchar = 'sent' THEN now() ELSE NULL END,
               chat_id = $3::varchar, telegram_message_id = $4::bigint, last_error = $5::text, lease_until = NULL
        WHERE id = $1 AND closed_at IS NULL AND attempts = $6
        """

    static let postponeSQL = """
        UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $2::float8), last_error = $3::text, lease_until = NULL
        WHERE id = $1 AND closed_at IS NULL AND attempts = $4
        """

    /// Sends what is due, at most `limit` rows per pass. Without a bot token nothing is claimed (the rows wait,
    /// then expire): `GET /v1/health` reports Telegram as not configured.
    @discardableResult
    public func deliver(limit: Int = 500, batch: Int = 25) throws(DatabaseError) -> Summary {
        var summary = Summary()
        guard telegram.settings.isConfigured else { return summary }
        summary.expired = try db.queryOne(OutboxSender.expireSQL)?.int("n") ?? 0
        var taken = 0
        // Small batches: a claimed row waits at most a batch of sends, far inside its lease (renewed before each send).
        while taken < limit {
            let rows = try db.query(OutboxSender.claimSQL, [min(batch, limit - taken)])
                .sorted { (try? $0.int64("id")) ?? 0 < (try? $1.int64("id")) ?? 0 }
            if rows.isEmpty { break }
            taken += rows.count
            if try !send(rows, &summary) { break }
        }
        if summary != Summary() { logger.info("outbox delivered", ["summary": summary.json]) }
        return summary
    }

    /// Sends one claimed batch; false when Telegram asked to wait (the rest of the batch is postponed).
    func send(_ rows: [Row], _ summary: inout Summary) throws(DatabaseError) -> Bool {
        var stopAfter: Int? = nil
        for row in rows {
            let id = try row.int64("id")
            let claim = try row.int("attempts")
            if let wait = stopAfter {
                try db.query(OutboxSender.postponeSQL, [id, Double(wait), "postponed: Telegram asked to wait", claim])
                continue
            }
            let isOperator = try row.isNull("user_id")
            guard let chat = isOperator ? telegram.settings.operatorChatID : try row.optionalString("user_chat"), !chat.isEmpty else {
                try db.query(OutboxSender.closeSQL, [id, "no_chat", nil as String?, nil as Int64?,
                                                     isOperator ? "TELEGRAM_OPERATOR_CHAT_ID is not set" : "the user has no Telegram chat", claim])
                summary.noChat += 1
                continue
            }
            guard try db.queryOne(OutboxSender.renewSQL, [id, claim]) != nil else { continue }
            let log = logger.with(["notification_id": .int(Int(id)), "kind": .string(try row.string("kind"))])
            switch telegram.sendMessage(chatID: chat, text: try row.string("text")) {
            case .sent(let messageID):
                try db.query(OutboxSender.closeSQL, [id, "sent", chat, messageID, nil as String?, claim])
                summary.sent += 1
            case .refused(let why):
                log.warning("telegram refused a message", ["error": .string(why)])
                try db.query(OutboxSender.closeSQL, [id, "refused", chat, nil as Int64?, why, claim])
                summary.refused += 1
            case .retryAfter(let seconds):
                log.warning("telegram rate limit", ["retry_after": .int(seconds)])
                try db.query(OutboxSender.postponeSQL, [id, Double(seconds), "Telegram: retry after \(seconds) s", claim])
                stopAfter = seconds
                summary.failed += 1
            case .failed(let why):
                log.warning("telegram send failed", ["error": .string(why), "attempt": .int(claim)])
                try db.query(OutboxSender.postponeSQL, [id, min(600, 5 * pow(2, Double(min(claim, 10)))), why, claim])
                summary.failed += 1
            }
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
        return stopAfter == nil
    }
}
