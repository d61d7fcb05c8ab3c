import ArgumentParser
import Core
import Database
import Foundation

/// `signalbridge status`: can the database be reached, and is its schema current?
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show database reachability and migration state; exits 1 when something needs attention.")

    @Option(help: "Folder of NNN_name.sql files (default: MIGRATIONS_DIR or ./migrations).")
    var dir: String?

    func run() throws {
        let config = Config()
        let logger = Logger.fromConfig(config, label: "status")
        let db = try Connection(config: config, applicationName: "signalbridge-status", logger: logger)
        print("version     \(SignalBridgeVersion.current)")
        do {
            let row = try db.queryOne("SELECT current_setting('server_version') AS v, now() AS now")
            print("database    ok (PostgreSQL \(try row?.string("v") ?? "?"))")
        } catch {
            print("database    error: \(error.message)")
            throw ExitCode(1)
        }
        let migrator = try Migrator.load(directory: dir ?? config.string("MIGRATIONS_DIR", default: "migrations"))
        let status = try migrator.status(on: db)
        print("migrations  \(status.applied.count) applied, \(status.pending.count) pending")
        for file in status.pending { print("  pending   \(file.fileName)") }
        if !status.pending.isEmpty { throw ExitCode(1) }
    }
}
