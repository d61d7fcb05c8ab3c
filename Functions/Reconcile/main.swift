import Core
import Database
import Foundation
import Operations

// Scheduled every minute (cron/signalbridge.cron): compare our records with the exchanges, repair what is
// safe, alert on divergences, record the run. A second copy started while one runs exits 0 saying so.
// The divergence alerts it queued are sent at the end (the outbox is shared safely with the other jobs).
exit(ScheduledJob.main(name: "Reconcile") { config, logger in
    switch try Reconciler(config: config, logger: logger).run(trigger: "cron") {
    case .busy:
        logger.info("another reconciliation holds the lock; exiting")
        return ["status": "skipped", "reason": "another reconciliation is running"]
    case .ran(let run):
        let db = try Connection(config: config, applicationName: "signalbridge-reconcile", logger: logger)
        let outbox = try OutboxSender(db: db, telegram: TelegramClient(settings: try TelegramSettings.fromConfig(config)), logger: logger).deliver()
        return ["status": .string(run.status), "run_id": .string(run.id.uuidString.lowercased()),
                "accounts_checked": .int(run.accountsChecked), "accounts_deferred": .int(run.accountsDeferred),
                "divergences": .int(run.divergences.count), "outbox": outbox.json]
    }
})
