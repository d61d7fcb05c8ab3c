import Core
import Database
import Exchange
import Foundation
import Testing

/// The libpq layer against the real PostgreSQL of the stack.
extension Integration {
    @Suite struct DatabaseTests {
        @Test func sqlLockKeysAgreeWithSwift() throws {
            let db = Stack.ownerConnection()
            let names = LockName.allCases.map(\.rawValue) + ["", "some other name", "ünïcödé ✓", String(repeating: "x", count: 300)]
            for name in names {
                let row = try #require(try db.queryOne("SELECT signalbridge_lock_key($1) AS key", [name]))
                #expect(try row.int64("key") == LockName.key(for: name), "\(name)")
            }
        }

        @Test func sessionAdvisoryLockExcludesOtherSessions() throws {
            let a = Stack.ownerConnection(), b = Stack.ownerConnection()
            #expect(try a.tryAdvisoryLock(.dailyReport))
            #expect(try !b.tryAdvisoryLock(.dailyReport))
            try a.advisoryUnlock(.dailyReport)
            #expect(try b.tryAdvisoryLock(.dailyReport))
            try b.advisoryUnlock(.dailyReport)
        }

        @Test func typedDecoding() throws {
            let db = Stack.ownerConnection()
            let row = try #require(try db.queryOne("""
                SELECT 42 AS i, true AS b, 1.5::float8 AS d, 'text' AS s, NULL::text AS n,
                       '2026-11-21T10:05:30.123Z'::timestamptz AS t, '00000000-0000-0000-0000-0000000000ab'::uuid AS u,
                       '\\x00ff10'::bytea AS bytes, 9007199254740993::bigint AS big
                """))
            #expect(try row.int("i") == 42)
            #expect(try row.bool("b"))
            #expect(try row.double("d") == 1.5)
            #expect(try row.string("s") == "text")
            #expect(try row.optionalString("n") == nil)
            #expect(try row.date("t") == Timestamp.parse("2026-11-21T10:05:30.123Z"))
            #expect(try row.uuid("u") == UUID(uuidString: "00000000-0000-0000-0000-0000000000AB"))
            #expect(try row.bytes("bytes") == [0, 255, 16])
            #expect(try row.int64("big") == 9_007_199_254_740_993)
            #expect(throws: DatabaseError.self) { try row.int("s") }
            #expect(throws: DatabaseError.self) { try row.string("n") }
            #expect(throws: DatabaseError.self) { try row.string("no_such_column") }
        }

        @Test func parametersAreNeverInterpolated() throws {
            let db = Stack.ownerConnection()
            let hostile = "x'); DROP TABLE users; --"
            let row = try #require(try db.queryOne("SELECT $1::text AS v, length($1::text) AS n", [hostile]))
            #expect(try row.string("v") == hostile)
            #expect(try db.queryOne("SELECT to_regclass('users') IS NOT NULL AS present")?.bool("present") == true)
        }

        @Test func arrayParametersArriveElementByElement() throws {
            let db = Stack.ownerConnection()
            let texts = ["plain", "with,comma", "{braces}", "quote\"d", "back\\slash", "", "NULL", "ünïcödé ✓", " spaced "]
            let rows = try db.query("SELECT t, ord FROM unnest($1::text[]) WITH ORDINALITY AS a(t, ord) ORDER BY ord", [ArrayParameter(texts)])
            #expect(try rows.map { try $0.string("t") } == texts)
            let ids = [UUID(), UUID()]
            let uuids = try db.query("SELECT u FROM unnest($1::uuid[]) WITH ORDINALITY AS a(u, ord) ORDER BY ord", [ArrayParameter(ids)])
            #expect(try uuids.map { try $0.uuid("u") } == ids)
            #expect(try db.queryOne("SELECT cardinality($1::text[]) AS n", [ArrayParameter([String]())])?.int("n") == 0)
        }

        @Test func uniqueViolationIsClassifiedWithItsConstraint() throws {
            let db = Stack.ownerConnection()
            try db.executeScript("CREATE TEMP TABLE t_unique (k text CONSTRAINT t_unique_k UNIQUE)")
            try db.query("INSERT INTO t_unique VALUES ($1)", ["a"])
            let error = #expect(throws: DatabaseError.self) { try db.query("INSERT INTO t_unique VALUES ($1)", ["a"]) }
            #expect(error?.kind == .uniqueViolation)
            #expect(error?.sqlState == "23505")
            #expect(error?.constraint == "t_unique_k")
            #expect(error?.apiError.code == .databaseError)
        }

        @Test func transactionsCommitOrRollBack() throws {
            struct Abort: Error {}
            let db = Stack.ownerConnection()
            try db.executeScript("CREATE TEMP TABLE t_tx (v int)")
            try db.transaction { tx in try tx.query("INSERT INTO t_tx VALUES (1)") }
            #expect(throws: Abort.self) {
                try db.transaction { tx in
                    try tx.query("INSERT INTO t_tx VALUES (2)")
                    throw Abort()
                }
            }
            #expect(throws: DatabaseError.self) {
                try db.transaction { tx in
                    try tx.query("INSERT INTO t_tx VALUES (3)")
                    try tx.query("INSERT INTO t_tx VALUES ($1::int)", ["not a number"])
                }
            }
            let values = try db.query("SELECT v FROM t_tx ORDER BY v").map { try $0.int("v") }
            #expect(values == [1])
        }

        @Test func lostConnectionIsUnavailableThenReconnects() throws {
            let victim = Stack.ownerConnection(), killer = Stack.ownerConnection()
            func terminate() throws {
                let pid = try #require(try victim.queryOne("SELECT pg_backend_pid() AS pid")).int("pid")
                try killer.query("SELECT pg_terminate_backend($1::int)", [pid])
            }
            try terminate()
            let error = #expect(throws: DatabaseError.self) { try victim.query("SELECT 1") }
            #expect(error?.kind == .unavailable)
            #expect(error?.apiError.status == 503)
            #expect(try victim.queryOne("SELECT 7 AS v")?.int("v") == 7)
            // Idempotent statements ride over the reconnect without the caller seeing it.
            try terminate()
            #expect(try victim.queryOne("SELECT 8 AS v", idempotent: true)?.int("v") == 8)
        }

        /// A connection lost in the middle of a transaction fails the whole transaction: the idempotent retry
        /// must not reconnect and carry on outside it, committing half the work.
        @Test func connectionLostInsideATransactionFailsItWhole() throws {
            let victim = Stack.ownerConnection(), killer = Stack.ownerConnection()
            let table = "tx_atomicity_" + UUID().uuidString.prefix(8).lowercased()
            try killer.executeScript("CREATE TABLE \(table) (v int)")
            defer { try? killer.executeScript("DROP TABLE \(table)") }
            #expect(throws: DatabaseError.self) {
                try victim.transaction { tx in
                    try tx.query("INSERT INTO \(table) VALUES (1)")
                    let pid = try #require(try tx.queryOne("SELECT pg_backend_pid() AS pid")).int("pid")
                    try killer.query("SELECT pg_terminate_backend($1::int)", [pid])
                    try tx.query("SELECT 1", idempotent: true)
                    try tx.query("INSERT INTO \(table) VALUES (2)")
                }
            }
            #expect(try killer.queryOne("SELECT count(*) AS n FROM \(table)")?.int("n") == 0)
            // The connection is usable again afterwards, and transactions work on it.
            try victim.transaction { tx in try tx.query("INSERT INTO \(table) VALUES (3)") }
            #expect(try killer.queryOne("SELECT count(*) AS n FROM \(table)")?.int("n") == 1)
        }

        @Test func malformedURLNeverEchoesThePassword() throws {
            let db = Connection(url: Secret("postgresql://user:s3cr%zzpassword@127.0.0.1:1/x"), applicationName: "t", logger: Stack.quietLogger)
            let error = #expect(throws: DatabaseError.self) { try db.query("SELECT 1") }
            #expect(error?.kind == .unavailable)
            #expect(error.map { !$0.description.contains("s3cr") } == true)
            let refused = Connection(url: Secret("postgresql://user:hunter2secret@127.0.0.1:1/x"), applicationName: "t", logger: Stack.quietLogger)
            let refusal = #expect(throws: DatabaseError.self) { try refused.query("SELECT 1") }
            #expect(refusal.map { !$0.description.contains("hunter2secret") } == true)
        }

        @Test func migrationStatusIsReadOnly() throws {
            let status = try Migrator.load(directory: Stack.env("SIGNALBRIDGE_MIGRATIONS_DIR")).status(on: Stack.appConnection())
            #expect(status.pending.isEmpty)
            #expect(!status.applied.isEmpty)
        }

        @Test func symbolDirectoryMapsInternalSymbols() throws {
            let directory = SymbolDirectory(db: Stack.appConnection())
            #expect(try directory.exchangeSymbol(for: "BTC/USDT", on: "binance") == "BTCUSDT")
            #expect(try directory.exchangeSymbol(for: "BTC/USDT", on: "mexc") == "BTCUSDT")
            #expect(try directory.exchangeSymbol(for: "DOGE/USDT", on: "binance") == nil)
            #expect(try directory.enabledSymbols()["ETH/USDT"] == ["binance", "mexc"])
            // The seeded rows follow the same rule as the adapters' mapping.
            for (symbol, exchanges) in try directory.enabledSymbols() {
                for exchange in exchanges {
                    #expect(try directory.exchangeSymbol(for: symbol, on: exchange)
                            == SymbolMapping.exchangeSymbol(for: symbol, on: ExchangeName(rawValue: exchange)!))
                }
            }
        }

        @Test func appRoleCannotChangeTheSchema() throws {
            let app = Stack.appConnection()
            #expect(try app.queryOne("SELECT count(*) AS n FROM users")?.int("n") != nil)
            let error = #expect(throws: DatabaseError.self) { try app.executeScript("CREATE TABLE app_should_not_create (x int)") }
            #expect(error?.sqlState == "42501")
            #expect(throws: DatabaseError.self) { try app.executeScript("DROP TABLE users") }
        }
    }
}
