import Crypto
import Foundation

/// A migration file: `NNN_name.sql` in the migrations folder.
public struct MigrationFile: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes, hex.
    public let checksum: String

    public var fileName: String {
        let v = String(version)
        return String(repeating: "0", count: max(0, 3 - v.count)) + v + "_" + name + ".sql"
    }

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hex(sql)
    }
}

/// Why the migrator refused to run.
public struct MigrationError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// Applies pending migrations in order, each in its own transaction, recording version, name and checksum in
/// `schema_migrations`. Refuses to run when an applied file was edited or removed, or when a pending file is
/// older than one already applied. Concurrent runs serialise on the `migrations` advisory lock.
public struct Migrator {
    public let files: [MigrationFile]

    public init(files: [MigrationFile]) throws(MigrationError) {
        var seen: [Int: String] = [:]
        for f in files {
            if let other = seen[f.version] {
                throw MigrationError(description: "two migrations share version \(f.version): \(other) and \(f.fileName)")
            }
            seen[f.version] = f.fileName
        }
        self.files = files.sorted { $0.version < $1.version }
    }

    /// Reads `NNN_name.sql` files from a folder; other files are ignored.
    public static func load(directory: String) throws(MigrationError) -> Migrator {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError(description: "cannot read migrations folder \(directory)")
        }
        var files: [MigrationFile] = []
        for name in names where name.hasSuffix(".sql") {
            let stem = name.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError(description: "migration file \(name) is not named NNN_name.sql")
            }
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let sql = String(data: data, encoding: .utf8) else {
                throw MigrationError(description: "cannot read \(path)")
            }
            files.append(MigrationFile(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        return try Migrator(files: files)
    }

    /// Applied and pending migrations, after checking that applied files are unchanged.
    public struct Status: Sendable, Equatable {
        public var applied: [MigrationFile]
        public var pending: [MigrationFile]
    }

    /// Read-only: works with a role that cannot create tables.
    public func status(on db: Connection) throws -> Status {
        let exists = try db.queryOne("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")?.bool("present") ?? false
        return exists ? try check(db) : Status(applied: [], pending: files)
    }

    /// Applies every pending migration; returns the ones applied by this call.
    @discardableResult
    public func migrate(on db: Connection, log: (String) -> Void = { _ in }) throws -> [MigrationFile] {
        try db.advisoryLock(.migrations)
        defer { try? db.advisoryUnlock(.migrations) }
        try ensureTable(db)
        let status = try check(db)
        for file in status.pending {
            try db.transaction(retries: 0) { tx in
                try tx.executeScript(file.sql)
                try tx.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                             [file.version, file.name, file.checksum])
            }
            log("applied \(file.fileName)")
        }
        return status.pending
    }

    private func ensureTable(_ db: Connection) throws {
        try db.executeScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    private func check(_ db: Connection) throws -> Status {
        let rows = try db.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        var applied: [MigrationFile] = []
        var appliedVersions: Set<Int> = []
        for row in rows {
            let version = try row.int("version")
            appliedVersions.insert(version)
            guard let file = files.first(where: { $0.version == version }) else {
                throw MigrationError(description: "applied migration \(version) (\(try row.string("name"))) is missing from the migrations folder")
            }
            guard file.checksum == (try row.string("checksum")) else {
                throw MigrationError(description: "\(file.fileName) was edited after it was applied; add a new migration instead")
            }
            applied.append(file)
        }
        let pending = files.filter { !appliedVersions.contains($0.version) }
        if let newest = appliedVersions.max(), let stray = pending.first(where: { $0.version < newest }) {
            throw MigrationError(description: "\(stray.fileName) is pending but a newer migration (\(newest)) is already applied")
        }
        return Status(applied: applied, pending: pending)
    }
}
