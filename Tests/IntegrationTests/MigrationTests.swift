import Core
import Database
import Foundation
import Testing

/// The migrator on a scratch schema of the real database, and the `signalbridge` CLI on the real one.
extension Integration {
    @Suite struct MigrationTests {
        let schema = "mt_" + UUID().uuidString.prefix(8).lowercased()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sb-migrations-\(UUID().uuidString)")

        func scratch() throws -> Connection {
            let db = Stack.ownerConnection()
            try db.executeScript("CREATE SCHEMA IF NOT EXISTS \(schema); SET search_path TO \(schema)")
            return db
        }

        func write(_ name: String, _ sql: String) throws {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try sql.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }

        func cleanUp(_ db: Connection) {
            try? db.executeScript("DROP SCHEMA \(schema) CASCADE")
            try? FileManager.default.removeItem(at: dir)
        }

        @Test func appliesInOrderOnceAndRecordsChecksums() throws {
            let db = try scratch()
            defer { cleanUp(db) }
            try write("001_create.sql", "CREATE TABLE things (id int PRIMARY KEY, name text);")
            try write("002_seed.sql", "INSERT INTO things VALUES (1, 'one'); INSERT INTO things VALUES (2, 'two');")
            let applied = try Migrator.load(directory: dir.path).migrate(on: db)
            #expect(applied.map(\.version) == [1, 2])
            #expect(try db.queryOne("SELECT count(*) AS n FROM things")?.int("n") == 2)
            let rows = try db.query("SELECT version, checksum FROM schema_migrations ORDER BY version")
            #expect(try rows.map { try $0.string("checksum") } == applied.map(\.checksum))
            #expect(try Migrator.load(directory: dir.path).migrate(on: db).isEmpty)
            #expect(try db.queryOne("SELECT count(*) AS n FROM things")?.int("n") == 2)
        }

        @Test func refusesEditedMissingAndOutOfOrderFiles() throws {
            let db = try scratch()
            defer { cleanUp(db) }
            try write("001_a.sql", "CREATE TABLE a (x int);")
            try write("003_c.sql", "CREATE TABLE c (x int);")
            try Migrator.load(directory: dir.path).migrate(on: db)

            try write("002_b.sql", "CREATE TABLE b (x int);")
            let outOfOrder = #expect(throws: MigrationError.self) { try Migrator.load(directory: dir.path).migrate(on: db) }
            #expect(outOfOrder?.description.contains("002_b.sql is pending") == true)
            try FileManager.default.removeItem(at: dir.appendingPathComponent("002_b.sql"))

            try write("001_a.sql", "CREATE TABLE a (x int, y int);")
            let edited = #expect(throws: MigrationError.self) { try Migrator.load(directory: dir.path).migrate(on: db) }
            #expect(edited?.description.contains("001_a.sql was edited") == true)
            try write("001_a.sql", "CREATE TABLE a (x int);")

            try FileManager.default.removeItem(at: dir.appendingPathComponent("003_c.sql"))
            let missing = #expect(throws: MigrationError.self) { try Migrator.load(directory: dir.path).status(on: db) }
            #expect(missing?.description.contains("missing") == true)
        }

        /// Security checklist: a new database refuses to trade until an operator releases the kill switch (the
        /// environment's half, `TRADING_ENABLED`, is pinned in ConfigTests). Every real migration, on an empty
        /// database of its own (on a scratch schema of the real one, migration 002's grants on schema `public`
        /// would undo the append-only revokes of the real tables).
        @Test func aNewDatabaseStartsWithTheKillSwitchEngaged() throws {
            let name = "scratch_" + UUID().uuidString.prefix(8).lowercased()
            let created = try Stack.run(Stack.stackScript, ["scratch-db", "create", name])
            #expect(created.status == 0, "\(created.stderr)")
            defer { _ = try? Stack.run(Stack.stackScript, ["scratch-db", "drop", name]) }
            let realURL = Stack.secretFile("TEST_DATABASE_URL_FILE").reveal()
            let scratchURL = realURL.hasSuffix("/signalbridge") ? String(realURL.dropLast("signalbridge".count)) + name
                : realURL.replacingOccurrences(of: "/signalbridge?", with: "/\(name)?")
            try #require(scratchURL != realURL, "the database name in \(realURL.split(separator: "@").last ?? "")")
            let db = Connection(url: Secret(scratchURL), applicationName: "integration-tests", logger: Stack.quietLogger)
            defer { db.close() }
            try Migrator.load(directory: Stack.env("SIGNALBRIDGE_MIGRATIONS_DIR")).migrate(on: db)
            let row = try db.queryOne("SELECT (value->>'engaged')::boolean AS engaged FROM system_settings WHERE key = 'kill_switch'")
            #expect(try row?.bool("engaged") == true)
        }

        @Test func aFailingMigrationLeavesNothingBehind() throws {
            let db = try scratch()
            defer { cleanUp(db) }
            try write("001_ok.sql", "CREATE TABLE ok (x int);")
            try write("002_broken.sql", "CREATE TABLE half (x int); INSERT INTO ok VALUES (1); SELEC broken;")
            #expect(throws: DatabaseError.self) { try Migrator.load(directory: dir.path).migrate(on: db) }
            #expect(try db.queryOne("SELECT to_regclass('half') IS NULL AS gone")?.bool("gone") == true)
            #expect(try db.queryOne("SELECT count(*) AS n FROM ok")?.int("n") == 0)
            #expect(try db.query("SELECT version FROM schema_migrations").map { try $0.int("version") } == [1])
        }

        @Test func cliReportsTheRealDatabaseUpToDate() throws {
            let env = ["PATH": "/usr/bin:/bin", "DATABASE_URL_FILE": Stack.env("TEST_DATABASE_URL_FILE")]
            let dir = Stack.env("SIGNALBRIDGE_MIGRATIONS_DIR")
            let status = try Stack.run(Stack.binDir + "/signalbridge", ["status", "--dir", dir], environment: env)
            #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
            #expect(status.stdout.contains("database    ok"))
            #expect(status.stdout.contains("0 pending"))
            let migrate = try Stack.run(Stack.binDir + "/signalbridge", ["migrate", "--dir", dir], environment: env)
            #expect(migrate.status == 0)
            #expect(migrate.stdout.contains("database is up to date"))
            let down = try Stack.run(Stack.binDir + "/signalbridge", ["status", "--dir", dir],
                                     environment: ["PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://x@127.0.0.1:1/none"])
            #expect(down.status == 1)
            #expect(down.stdout.contains("database    error"))
        }
    }
}
