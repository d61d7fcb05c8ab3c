import Core
import Foundation

/// The frame of a scheduled function (a cron entry): read the environment, run once, print one JSON summary
/// line on stdout, log on stderr, and exit 0 on success (also when another copy holds the job's lock) or 1 (the
/// body threw, or its summary says `"status": "error"`, e.g. a reconciliation run recorded as failed).
public enum ScheduledJob {
    public static func main(name: String, _ body: (Config, Logger) throws -> JSONValue) -> Int32 {
        let config = Config()
        let logger = Logger.fromConfig(config, label: name).with(["run_id": .string(UUID().uuidString.lowercased())])
        let started = Date()
        do {
            var summary = try body(config, logger)
            if case .object(var fields) = summary {
                fields["job"] = .string(name)
                fields["duration_ms"] = .int(Int(Date().timeIntervalSince(started) * 1000))
                summary = .object(fields)
            }
            print(summary.jsonText)
            logger.info("job finished", ["summary": summary])
            return summary["status"] == "error" ? 1 : 0
        } catch {
            logger.error("job failed", ["error": .string(String(describing: error))])
            print((["job": .string(name), "status": "error", "error": .string(String(describing: error))] as JSONValue).jsonText)
            return 1
        }
    }
}
