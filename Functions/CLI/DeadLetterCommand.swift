import ArgumentParser
import Core
import Database
import Engine
import Foundation
import Operations

/// `signalbridge dead-letter list|retry|cancel`: the operator's side of the dead-letter queue (the same code as
/// `POST /v1/orders/{id}/retry|cancel`). A retry is placed at once by this command.
struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dead-letter", abstract: "Inspect and resolve the dead-letter queue.",
                                                    subcommands: [List.self, Retry.self, Cancel.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Executions waiting for a decision, oldest first.")
        @Option(help: "Only this user's (UUID).") var user: String?
        @Option(help: "At most this many.") var limit: Int = 100
        @Flag(help: "One JSON object per line.") var json = false

        func run() throws {
            let config = Config()
            let db = try Connection(config: config, applicationName: "signalbridge-cli", logger: Logger.fromConfig(config, label: "cli"))
            var userID: UUID?
            if let user {
                guard let id = UUID(uuidString: user) else { throw ValidationError("--user must be a UUID") }
                userID = id
            }
            let items = try RetryQueue(db: db, settings: try RetrySettings.fromConfig(config)).list(userID: userID, limit: max(1, min(limit, 1000)))
            if json {
                for item in items { print(item.json.jsonText) }
                return
            }
            if items.isEmpty { print("the dead-letter queue is empty") }
            for d in items {
                print("\(d.id.uuidString.lowercased())  \(Timestamp.iso8601(d.since))  \(d.side.uppercased()) \(d.symbol) on \(d.exchange)  "
                      + "user \(d.userID.uuidString.lowercased())  signal \(d.signalRef)  retries \(d.retries)  \(d.errorMessage ?? "")")
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send one more attempt now (the signal's age does not apply).")
        @Argument(help: "The execution id.") var id: String
        @Option(help: "Why (recorded with the event).") var reason: String?

        func run() throws {
            let (config, db, execution) = try DeadLetterCommand.open(id)
            let queue = RetryQueue(db: db, settings: try RetrySettings.fromConfig(config))
            switch try queue.retry(execution, owner: nil, actor: "cli", note: reason.map { String($0.prefix(200)) }) {
            case .failure(let e): throw DeadLetterCommand.failure(e)
            case .success:
                let logger = Logger.fromConfig(config, label: "cli")
                try ExecutionEngine(config: config, logger: logger).run(signal: nil, execution: execution, workers: 1)
                let status = try db.queryOne("SELECT status, error_message FROM executions WHERE id = $1", [execution])
                print("retried \(id): now \(try status?.string("status") ?? "?")\(try status?.optionalString("error_message").map { " (\($0))" } ?? "")")
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel for good (final).")
        @Argument(help: "The execution id.") var id: String
        @Option(help: "Why (recorded with the event).") var reason: String?

        func run() throws {
            let (config, db, execution) = try DeadLetterCommand.open(id)
            switch try RetryQueue(db: db, settings: try RetrySettings.fromConfig(config))
                .cancel(execution, owner: nil, actor: "cli", note: reason.map { String($0.prefix(200)) }) {
            case .failure(let e): throw DeadLetterCommand.failure(e)
            case .success: print("cancelled \(id)")
            }
        }
    }

    static func open(_ id: String) throws -> (Config, Connection, UUID) {
        guard let execution = UUID(uuidString: id) else { throw ValidationError("the id must be a UUID") }
        let config = Config()
        return (config, try Connection(config: config, applicationName: "signalbridge-cli", logger: Logger.fromConfig(config, label: "cli")), execution)
    }

    static func failure(_ e: OrderActionError) -> any Error {
        switch e {
        case .notFound: return ValidationError("no such execution")
        case .notDeadLetter(let status): return ValidationError("only a dead-letter can be retried or cancelled; this one is \(status)")
        }
    }
}

/// `signalbridge reconcile`: one reconciliation now (the scheduled job's code, under the same lock).
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reconcile", abstract: "Compare our records with the exchanges now.")

    func run() throws {
        let config = Config()
        switch try Reconciler(config: config, logger: Logger.fromConfig(config, label: "reconcile")).run(trigger: "cli") {
        case .busy:
            print("another reconciliation is running; nothing done")
        case .ran(let run):
            print("run \(run.id.uuidString.lowercased()): \(run.status), \(run.accountsChecked) account(s) checked, \(run.accountsDeferred) deferred, "
                  + "\(run.divergences.count) divergence(s)")
            for d in run.divergences { print("  \(d.kind.rawValue)  \(d.exchange)  \(d.clientOrderId)  \(d.action)") }
            if run.status != "success" { throw ExitCode(1) }
        }
    }
}
