import CPostgres
import Core
import Foundation

/// One libpq connection per process, from `DATABASE_URL`. Statements are prepared once per connection and
/// executed with parameters only. A broken connection is re-established on the next use; statements marked
/// idempotent are retried once across that reconnect.
///
/// Not thread-safe: a function process serves one request at a time and owns its connection.
public final class Connection {
    private let url: Secret
    private let applicationName: String
    private let logger: Logger
    private var conn: OpaquePointer?
    private var prepared: [String: String] = [:]
    private var statementCounter = 0
    /// Inside `transaction`: a lost connection must fail the transaction, never silently continue without one.
    private var inTransaction = false
    /// Extra `-c name=value` session settings, applied on every (re)connection.
    private let settings: String

    public init(url: Secret, applicationName: String, logger: Logger, settings: [String: String] = [:]) {
        self.url = url
        self.applicationName = applicationName
        self.logger = logger
        self.settings = settings.keys.sorted().map { " -c \($0)=\(settings[$0]!)" }.joined()
    }

    /// A connection configured from `DATABASE_URL` (or `DATABASE_URL_FILE`).
    public convenience init(config: Config, applicationName: String, logger: Logger, settings: [String: String] = [:]) throws(ConfigError) {
        self.init(url: try config.requireSecret("DATABASE_URL"), applicationName: applicationName, logger: logger, settings: settings)
    }

    deinit { if let conn { PQfinish(conn) } }

    public var isConnected: Bool { conn != nil && PQstatus(conn) == CONNECTION_OK }

    /// Connects if there is no healthy connection.
    public func connect() throws(DatabaseError) {
        if let conn {
            if PQstatus(conn) == CONNECTION_OK { return }
            PQfinish(conn)
            self.conn = nil
            prepared.removeAll()
        }
        if inTransaction {
            throw DatabaseError(kind: .unavailable, message: "connection lost inside a transaction")
        }
        // libpq quotes a malformed URI in its error text, password included: validate it first, quietly.
        var parseError: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(url.reveal(), &parseError) {
            PQconninfoFree(options)
        } else {
            if let parseError { PQfreemem(parseError) }
            throw DatabaseError(kind: .unavailable, message: "DATABASE_URL is malformed")
        }
        // Defaults first; the URL (expanded from dbname) overrides them. JIT is off: our statements run in
        // about a millisecond, and JIT compilation of a fan-out (estimated cost > jit_above_cost) took 40 ms.
        let keys = ["connect_timeout", "application_name", "options", "dbname"]
        let values = ["3", applicationName, "-c TimeZone=UTC -c DateStyle=ISO -c jit=off" + settings, url.reveal()]
        let c = withCStrings(keys) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let c, PQstatus(c) == CONNECTION_OK else {
            let message = c.map { Connection.redact(Connection.errorText($0), secret: url) } ?? "out of memory"
            if let c { PQfinish(c) }
            throw DatabaseError(kind: .unavailable, message: "cannot connect: \(message)")
        }
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        conn = c
    }

    /// Closes the connection (the next use reconnects).
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
        prepared.removeAll()
    }

    /// Runs a parameterised statement and returns its rows. `idempotent` statements are retried once
    /// when the connection turns out to be broken (e.g. after a server restart) outside a transaction.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any SQLParameter] = [], idempotent: Bool = false) throws(DatabaseError) -> [Row] {
        let insideTransaction = inTransaction
        do {
            return try run(sql, parameters)
        } catch let error where error.kind == .unavailable && idempotent && !insideTransaction {
            logger.warning("database connection lost; reconnecting", ["error": .string(error.message)])
            close()
            return try run(sql, parameters)
        }
    }

    /// The first row, or nil.
    public func queryOne(_ sql: String, _ parameters: [any SQLParameter] = [], idempotent: Bool = false) throws(DatabaseError) -> Row? {
        try query(sql, parameters, idempotent: idempotent).first
    }

    /// Runs SQL text with no parameters through the simple protocol: several statements are allowed.
    /// Only for trusted text (migration files, fixed statements), never for anything built from input.
    public func executeScript(_ sql: String) throws(DatabaseError) {
        try connect()
        guard let res = PQexec(conn, sql) else { throw failure(nil) }
        defer { PQclear(res) }
        let status = PQresultStatus(res)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            throw failure(res)
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. Serialization
    /// failures and deadlocks re-run the whole body, up to `retries` more times.
    @discardableResult
    public func transaction<T>(retries: Int = 2, _ body: (Connection) throws -> T) throws -> T {
        precondition(!inTransaction, "nested transactions are not supported")
        var attempt = 0
        while true {
            try begin()
            inTransaction = true
            do {
                let result = try body(self)
                inTransaction = false
                try executeScript("COMMIT")
                return result
            } catch {
                inTransaction = false
                if isConnected { try? executeScript("ROLLBACK") }
                if let db = error as? DatabaseError, db.kind == .retryable, attempt < retries {
                    attempt += 1
                    logger.info("transaction retried", ["attempt": .int(attempt), "sqlstate": .string(db.sqlState ?? "")])
                    continue
                }
                throw error
            }
        }
    }

    // MARK: private

    /// BEGIN; nothing was done yet, so a connection that died while idle (server restart) is simply re-made.
    private func begin() throws(DatabaseError) {
        do {
            try executeScript("BEGIN")
        } catch {
            guard error.kind == .unavailable else { throw error }
            close()
            try executeScript("BEGIN")
        }
    }

    private func run(_ sql: String, _ parameters: [any SQLParameter]) throws(DatabaseError) -> [Row] {
        do {
            return try runPrepared(sql, parameters)
        } catch let error where error.sqlState == "0A000" && !inTransaction {
            // "cached plan must not change result type": the schema changed under a prepared statement.
            if let name = prepared.removeValue(forKey: sql) { _ = try? executeScript("DEALLOCATE " + name) }
            return try runPrepared(sql, parameters)
        }
    }

    private func runPrepared(_ sql: String, _ parameters: [any SQLParameter]) throws(DatabaseError) -> [Row] {
        try connect()
        let name = try statementName(for: sql)
        let texts = parameters.map { $0.sqlText }
        if texts.contains(where: { $0?.utf8.contains(0) == true }) {
            throw DatabaseError(kind: .invalidData, message: "a parameter contains a NUL byte")
        }
        let res = withOptionalCStrings(texts) { values in
            PQexecPrepared(conn, name, Int32(texts.count), values, nil, nil, 0)
        }
        guard let res else { throw failure(nil) }
        defer { PQclear(res) }
        let status = PQresultStatus(res)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw failure(res) }
        return Connection.rows(of: res)
    }

    private func statementName(for sql: String) throws(DatabaseError) -> String {
        if let name = prepared[sql] { return name }
        statementCounter += 1
        let name = "sb\(statementCounter)"
        guard let res = PQprepare(conn, name, sql, 0, nil) else { throw failure(nil) }
        defer { PQclear(res) }
        guard PQresultStatus(res) == PGRES_COMMAND_OK else { throw failure(res) }
        prepared[sql] = name
        return name
    }

    private func failure(_ res: OpaquePointer?) -> DatabaseError {
        let sqlState = res.flatMap { field($0, cpg_diag_sqlstate) }
        let message = res.flatMap { field($0, cpg_diag_message_primary) } ?? conn.map { Connection.errorText($0) } ?? "no connection"
        let constraint = res.flatMap { field($0, cpg_diag_constraint_name) }
        var kind = sqlState == nil ? DatabaseError.Kind.other : DatabaseError.classify(sqlState: sqlState)
        if conn == nil || PQstatus(conn) != CONNECTION_OK {
            kind = .unavailable
            close()
        }
        return DatabaseError(kind: kind, sqlState: sqlState, message: Connection.redact(message, secret: url), constraint: constraint)
    }

    private func field(_ res: OpaquePointer, _ code: Int32) -> String? {
        guard let p = PQresultErrorField(res, code) else { return nil }
        return String(cString: p)
    }

    /// Removes the connection URL and its password from a libpq message, should one ever be quoted.
    static func redact(_ message: String, secret: Secret) -> String {
        var text = message.replacingOccurrences(of: secret.reveal(), with: "REDACTED")
        if let at = secret.reveal().firstIndex(of: "@"), let colon = secret.reveal()[..<at].lastIndex(of: ":") {
            let password = String(secret.reveal()[secret.reveal().index(after: colon)..<at])
            if password.count >= 4 { text = text.replacingOccurrences(of: password, with: "REDACTED") }
        }
        return text
    }

    private static func errorText(_ conn: OpaquePointer) -> String {
        guard let p = PQerrorMessage(conn) else { return "unknown error" }
        return String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func rows(of res: OpaquePointer) -> [Row] {
        let rowCount = Int(PQntuples(res))
        let columnCount = Int(PQnfields(res))
        var columns: [String: Int] = [:]
        for c in 0..<columnCount { columns[String(cString: PQfname(res, Int32(c)))] = c }
        var rows: [Row] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if PQgetisnull(res, Int32(r), Int32(c)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(res, Int32(r), Int32(c))))
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }
}

/// Packs strings into one NUL-separated buffer and hands out a `const char *const *` into it.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map { Optional($0) }) { pointers in
        // A NULL terminator for the keyword/value arrays of PQconnectdbParams.
        body(pointers!)
    }
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    var buffer: [CChar] = []
    var offsets: [Int?] = []
    for s in strings {
        if let s {
            offsets.append(buffer.count)
            buffer.append(contentsOf: s.utf8CString)
        } else {
            offsets.append(nil)
        }
    }
    return buffer.withUnsafeBufferPointer { buf in
        var pointers: [UnsafePointer<CChar>?] = offsets.map { $0.map { buf.baseAddress! + $0 } }
        pointers.append(nil)
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
