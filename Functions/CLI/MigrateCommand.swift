import ArgumentParser
import Core
import Database

/// `signalbridge migrate`: applies pending migrations in order, each in a transaction.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (refuses if an applied file was edited).")

    @Option(help: "Folder of NNN_name.sql files (default: MIGRATIONS_DIR or ./migrations).")
    var dir: String?

    @Flag(help: "Only list what would be applied.")
    var dryRun = false

    func run() throws {
        let config = Config()
        let logger = Logger.fromConfig(config, label: "migrate")
        let migrator = try Migrator.load(directory: dir ?? config.string("MIGRATIONS_DIR", default: "migrations"))
        let db = try Connection(config: config, applicationName: "signalbridge-migrate", logger: logger)
        if dryRun {
            let status = try migrator.status(on: db)
            print("\(status.applied.count) applied, \(status.pending.count) pending")
            for file in status.pending { print("pending \(file.fileName)") }
            return
        }
        let applied = try migrator.migrate(on: db) { print($0) }
        print(applied.isEmpty ? "database is up to date" : "applied \(applied.count) migration(s)")
    }
}
