import Database
import Foundation
import Testing

@Suite struct MigratorTests {
    @Test func filesAreOrderedByVersion() throws {
        let m = try Migrator(files: [
            MigrationFile(version: 10, name: "ten", sql: "x"),
            MigrationFile(version: 2, name: "two", sql: "y"),
        ])
        #expect(m.files.map(\.version) == [2, 10])
        #expect(m.files.map(\.fileName) == ["002_two.sql", "010_ten.sql"])
    }

    @Test func duplicateVersionsAreRefused() {
        #expect(throws: MigrationError.self) {
            try Migrator(files: [MigrationFile(version: 1, name: "a", sql: ""), MigrationFile(version: 1, name: "b", sql: "")])
        }
    }

    @Test func checksumIsSHA256OfTheText() {
        #expect(MigrationFile(version: 1, name: "a", sql: "abc").checksum
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func loadRejectsBadNamesAndIgnoresOtherFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sb-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "select 1;".write(to: dir.appendingPathComponent("001_first.sql"), atomically: true, encoding: .utf8)
        try "notes".write(to: dir.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        #expect(try Migrator.load(directory: dir.path).files.map(\.fileName) == ["001_first.sql"])
        try "select 2;".write(to: dir.appendingPathComponent("second.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migrator.load(directory: dir.path) }
    }

    @Test func theRepositoryMigrationsLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let m = try Migrator.load(directory: root.appendingPathComponent("migrations").path)
        #expect(m.files.first?.fileName == "001_initial_schema.sql")
        #expect(m.files.map(\.version) == Array(1...m.files.count))
    }
}

@Suite struct DatabaseErrorTests {
    @Test(arguments: [
        ("23505", DatabaseError.Kind.uniqueViolation), ("23503", .foreignKeyViolation), ("23514", .invalidData),
        ("22P02", .invalidData), ("40001", .retryable), ("40P01", .retryable), ("08006", .unavailable),
        ("57P01", .unavailable), ("57014", .timeout), ("42P01", .other),
    ])
    func classifiesSQLState(state: String, kind: DatabaseError.Kind) {
        #expect(DatabaseError.classify(sqlState: state) == kind)
    }

    @Test func mapsToTheErrorContract() {
        #expect(DatabaseError(kind: .unavailable, message: "x").apiError.status == 503)
        #expect(DatabaseError(kind: .retryable, message: "x").apiError.status == 503)
        #expect(DatabaseError(kind: .uniqueViolation, message: "x").apiError.status == 500)
        #expect(DatabaseError(kind: .other, message: "x").apiError.code == .databaseError)
    }
}
