import Core
import Database
import Engine
import Foundation
import Operations

// Scheduled every minute (cron/signalbridge.cron). One pass:
//  1. failed executions with no retries left (or a stale signal) → dead_letter + alert;
//  2. failed executions whose backoff has passed → back to the queue (through `unknown` if ever sent);
//  3. the engine's sweep: pending, unknown, expired leases, stale `submitted`;
//  4. step 1 again, so what failed for the last time in step 3 is dead-lettered now, not a minute later;
//  5. the notification outbox → Telegram.
// Steps 1–4 run under a session advisory lock (a second copy skips them); the outbox is safe to share.
exit(ScheduledJob.main(name: "DeadLetterRetry") { config, logger in
    let db = try Connection(config: config, applicationName: "signalbridge-retry", logger: logger)
    let queue = RetryQueue(db: db, settings: try RetrySettings.fromConfig(config))
    var summary: [String: JSONValue] = [:]
    if try db.tryAdvisoryLock(.deadLetterRetry) {
        defer { try? db.advisoryUnlock(.deadLetterRetry) }
        let exhausted = try queue.deadLetterExhausted(actor: "retry-job")
        let requeued = try queue.requeueDue(actor: "retry-job")
        let handled = try ExecutionEngine(config: config, logger: logger).run(signal: nil)
        let exhaustedAfter = try queue.deadLetterExhausted(actor: "retry-job")
        summary["status"] = "ok"
        summary["requeued"] = .int(requeued.count)
        summary["handled"] = .int(handled)
        summary["dead_lettered"] = .int(exhausted.count + exhaustedAfter.count)
    } else {
        logger.info("another DeadLetterRetry holds the lock; only the outbox is sent")
        summary["status"] = "skipped"
        summary["reason"] = "another copy is running"
    }
    let telegram = TelegramClient(settings: try TelegramSettings.fromConfig(config))
    summary["outbox"] = try OutboxSender(db: db, telegram: telegram, logger: logger).deliver().json
    return .object(summary)
})
