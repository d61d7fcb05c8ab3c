import Core
import Foundation
import Operations

// Scheduled every minute (cron/signalbridge.cron): compare our records with the exchanges, repair what is
// safe, alert on divergences, record the run. A second copy started while one runs exits 0 saying so.
exit(ScheduledJob.main(name: "Reconcile") { config, logger in
    switch try Reconciler(config: config, logger: logger).run(trigger: "cron") {
    case .busy:
        logger.info("another reconciliation holds the lock; exiting")
        return ["status": "skipped", "reason": "another reconciliation is running"]
    case .ran(let run):
        return ["status": .string(run.status), "run_id": .string(run.id.uuidString.lowercased()),
                "accounts_checked": .int(run.accountsChecked), "accounts_deferred": .int(run.accountsDeferred),
                "divergences": .int(run.divergences.count)]
    }
})
