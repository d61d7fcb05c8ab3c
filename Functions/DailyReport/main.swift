import Core
import Database
import Foundation
import Operations

// Scheduled at 00:00 UTC (cron/signalbridge.cron): the report of the day that just ended, exactly once however
// many copies run (a periodic_runs row per day), then the outbox is sent.
exit(ScheduledJob.main(name: "DailyReport") { config, logger in
    let db = try Connection(config: config, applicationName: "signalbridge-daily-report", logger: logger)
    var summary: [String: JSONValue] = ["status": "ok"]
    switch try DailyReport(db: db, logger: logger).prepare() {
    case .queued(let day, let messages):
        summary["day"] = .string(day)
        summary["queued"] = .int(messages)
    case .alreadyDone(let day):
        summary["day"] = .string(day)
        summary["queued"] = 0
        summary["note"] = "already prepared for this day"
    }
    let telegram = TelegramClient(settings: try TelegramSettings.fromConfig(config))
    summary["outbox"] = try OutboxSender(db: db, telegram: telegram, logger: logger).deliver().json
    return .object(summary)
})
