import Accounts
import Core
import Database
import Domain
import Exchange
import Foundation
import Identity
import Runtime
import Vault

struct ConnectHandlers {
    let db: Connection
    let sessions: Sessions
    let vault: Vault
    let environment: ExchangeEnvironment
    let allowProduction: Bool
    let callsPerMinute: Int
    let logger: Logger

    init(config: Config, db: Connection, logger: Logger) throws {
        self.db = db
        self.logger = logger
        sessions = try Sessions(config: config, db: db)
        vault = try Vault.fromConfig(config)
        environment = try ExchangeEnvironment.fromConfig(config)
        allowProduction = try config.bool("EXCHANGE_ALLOW_PRODUCTION", default: false)
        callsPerMinute = try config.int("EXCHANGE_CALLS_PER_USER_PER_MINUTE", default: 10, range: 1...1000)
    }

    func list(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        return .json(.array(try CredentialStore(db: db).list(userID: session.userID).map(ConnectHandlers.render)))
    }

    /// US-01: validate with the exchange first (SPOT trading required, withdrawals refused); store only then.
    func connect(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        let exchange = try ConnectHandlers.exchange(req)
        var body = try FieldReader(req, allowed: ["api_key", "api_secret"])
        let apiKey = body.string("api_key", required: true, maxLength: 256)
        let apiSecret = body.string("api_secret", required: true, maxLength: 256)
        for (field, value) in [("api_key", apiKey), ("api_secret", apiSecret)] {
            if let value, value.count < 8 || value.contains(where: { $0.isWhitespace }) {
                body.reject(field, "must be at least 8 characters without spaces")
            }
        }
        try body.finish()
        let store = CredentialStore(db: db)
        if session.user.tier == .free,
           let other = try store.list(userID: session.userID).first(where: { $0.exchange != exchange.rawValue }) {
            throw APIError(.conflict, "The free tier allows one connected exchange: disconnect \(other.exchange) first, or upgrade",
                           details: ["connected": .string(other.exchange)])
        }
        let credentials = ExchangeCredentials(apiKey: Secret(apiKey!), apiSecret: Secret(apiSecret!))
        let fingerprint = SealedCredentials.fingerprint(apiKey: credentials.apiKey)
        try spendBudget(session)
        let permissions: KeyPermissions
        do {
            permissions = try adapter(exchange, credentials).permissions()
        } catch {
            try audit(req, session, exchange, "connect", success: false, error: error, fingerprint: fingerprint)
            throw ConnectHandlers.refusal(error)
        }
        if !permissions.canTrade {
            try audit(req, session, exchange, "connect", success: false, message: "no spot trading permission", fingerprint: fingerprint)
            throw APIError(.insufficientPermissions, "SPOT permission required")
        }
        if permissions.canWithdraw == true {
            try audit(req, session, exchange, "connect", success: false, message: "withdrawal permission enabled", fingerprint: fingerprint)
            throw APIError(.insufficientPermissions, "Withdrawal permission must be disabled for this key",
                           details: ["permission": "withdraw"])
        }
        let granted = ["read", "spot"]
        try db.transaction { tx in
            let blob = vault.seal(SealedCredentials.encode(apiKey: credentials.apiKey, apiSecret: credentials.apiSecret),
                                  userID: session.userID, exchange: exchange.rawValue)
            try CredentialStore(db: tx).upsert(userID: session.userID, exchange: exchange.rawValue, blob: blob, keyID: vault.currentKeyID,
                                               fingerprint: fingerprint, permissions: granted, ipRestricted: permissions.ipRestricted)
            try CredentialStore(db: tx).audit(userID: session.userID, exchange: exchange.rawValue, action: "connect", success: true, error: nil,
                                              fingerprint: fingerprint, address: req.remoteAddress, userAgent: req.header("user-agent"))
        }
        logger.info("exchange connected", ["request_id": .string(req.requestID), "user_id": .string(session.userID.uuidString.lowercased()),
                                           "exchange": .string(exchange.rawValue), "key_fingerprint": .string(String(fingerprint.prefix(12)))])
        guard let (connected, _) = try store.find(userID: session.userID, exchange: exchange.rawValue),
              case .object(var o) = ConnectHandlers.render(connected) else { throw APIError.internalError() }
        o["message"] = .string("\(exchange.rawValue.uppercased()) Connected")
        o["warnings"] = .array(ConnectHandlers.warnings(permissions).map(JSONValue.string))
        return .json(.object(o), status: 201)
    }

    func disconnect(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        let exchange = try ConnectHandlers.exchange(req)
        let store = CredentialStore(db: db)
        guard let (connected, _) = try store.find(userID: session.userID, exchange: exchange.rawValue) else {
            throw APIError.notFound("\(exchange.rawValue) is not connected")
        }
        try db.transaction { tx in
            try CredentialStore(db: tx).delete(userID: session.userID, exchange: exchange.rawValue)
            try CredentialStore(db: tx).audit(userID: session.userID, exchange: exchange.rawValue, action: "disconnect", success: true, error: nil,
                                              fingerprint: connected.fingerprint, address: req.remoteAddress, userAgent: req.header("user-agent"))
        }
        return .noContent()
    }

    /// CredentialsValidationResult: asks the exchange again; a key it now rejects is marked invalid and the
    /// user alerted (EC-04).
    func validate(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        let exchange = try ConnectHandlers.exchange(req)
        let (connected, credentials) = try stored(session, exchange)
        try spendBudget(session)
        var result: [String: JSONValue] = ["exchange": .string(exchange.rawValue), "checked_at": .string(Timestamp.iso8601(Date()))]
        let client = adapter(exchange, credentials)
        switch ConnectHandlers.call({ () throws(ExchangeError) in try client.permissions() }) {
        case .success(let permissions):
            let problems = (permissions.canTrade ? [] : ["SPOT permission required"])
                + (permissions.canWithdraw == true ? ["Withdrawal permission must be disabled for this key"] : [])
            try audit(req, session, exchange, "validate", success: problems.isEmpty, message: problems.first, fingerprint: connected.fingerprint)
            if problems.isEmpty {
                try CredentialStore(db: db).markValidated(userID: session.userID, exchange: exchange.rawValue,
                                                          permissions: ["read", "spot"], ipRestricted: permissions.ipRestricted)
            } else {
                try CredentialStore(db: db).markInvalid(userID: session.userID, exchange: exchange.rawValue, reason: problems[0])
            }
            result["is_valid"] = .bool(problems.isEmpty)
            result["permissions"] = .array((["read"] + (permissions.canTrade ? ["spot"] : []) + (permissions.canWithdraw == true ? ["withdraw"] : [])).map(JSONValue.string))
            result["ip_restricted"] = permissions.ipRestricted.map(JSONValue.bool) ?? .null
            result["warnings"] = .array(ConnectHandlers.warnings(permissions).map(JSONValue.string))
            result["error_message"] = problems.first.map(JSONValue.string) ?? .null
        case .failure(let error):
            try audit(req, session, exchange, "validate", success: false, error: error, fingerprint: connected.fingerprint)
            guard case .invalidCredentials = error else { throw ConnectHandlers.refusal(error) }
            try CredentialStore(db: db).markInvalid(userID: session.userID, exchange: exchange.rawValue, reason: "Invalid API credentials")
            result["is_valid"] = false
            result["permissions"] = []
            result["ip_restricted"] = .null
            result["warnings"] = []
            result["error_message"] = "Invalid API credentials"
        }
        return .json(.object(result))
    }

    func balance(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        let exchange = try ConnectHandlers.exchange(req)
        let (connected, credentials) = try stored(session, exchange)
        try spendBudget(session)
        let client = adapter(exchange, credentials)
        let balances: [Balance]
        switch ConnectHandlers.call({ () throws(ExchangeError) in try client.balances() }) {
        case .success(let b):
            balances = b
            try audit(req, session, exchange, "balance", success: true, message: nil, fingerprint: connected.fingerprint)
            try CredentialStore(db: db).markUsed(userID: session.userID, exchange: exchange.rawValue)
        case .failure(let error):
            try audit(req, session, exchange, "balance", success: false, error: error, fingerprint: connected.fingerprint)
            if case .invalidCredentials = error {
                try CredentialStore(db: db).markInvalid(userID: session.userID, exchange: exchange.rawValue, reason: "Invalid API credentials")
            }
            throw ConnectHandlers.refusal(error)
        }
        return .json([
            "exchange": .string(exchange.rawValue), "fetched_at": .string(Timestamp.iso8601(Date())),
            "balances": .array(balances.filter { $0.free > 0 || $0.locked > 0 }.map { b in
                ["asset": .string(b.asset), "free": .string(ExactDecimal.text(b.free)), "locked": .string(ExactDecimal.text(b.locked))]
            }),
        ])
    }

    // MARK: helpers

    private func stored(_ session: UserSession, _ exchange: ExchangeName) throws -> (ConnectedExchange, ExchangeCredentials) {
        guard let (connected, blob) = try CredentialStore(db: db).find(userID: session.userID, exchange: exchange.rawValue) else {
            throw APIError.notFound("\(exchange.rawValue) is not connected")
        }
        do {
            let (key, secret) = try SealedCredentials.decode(try vault.open(blob, userID: session.userID, exchange: exchange.rawValue))
            return (connected, ExchangeCredentials(apiKey: key, apiSecret: secret))
        } catch {
            // A blob that does not open is an integrity failure: loud in the log, never a silent "invalid key".
            logger.error("stored credentials failed to open", ["user_id": .string(session.userID.uuidString.lowercased()),
                                                               "exchange": .string(exchange.rawValue), "error": .string(error.description)])
            throw APIError.internalError()
        }
    }

    private func adapter(_ exchange: ExchangeName, _ credentials: ExchangeCredentials) -> any ExchangeAdapter {
        switch exchange {
        case .binance: BinanceAdapter(baseURL: environment.binanceBaseURL, credentials: credentials, allowProduction: allowProduction)
        case .mexc: MEXCAdapter(baseURL: environment.mexcBaseURL, credentials: credentials, allowProduction: allowProduction)
        }
    }

    /// SEC-05: at most `callsPerMinute` exchange calls per user.
    private func spendBudget(_ session: UserSession) throws {
        guard try CredentialStore(db: db).takeCallBudget(userID: session.userID, limit: callsPerMinute) else {
            let wait = 60 - Int(Date().timeIntervalSince1970) % 60
            throw APIError(.tooManyRequests, "At most \(callsPerMinute) exchange calls per minute; try again in \(wait) s",
                           headers: ["Retry-After": String(wait)])
        }
    }

    private func audit(_ req: Request, _ session: UserSession, _ exchange: ExchangeName, _ action: String, success: Bool,
                       error: ExchangeError? = nil, message: String? = nil, fingerprint: String) throws {
        try CredentialStore(db: db).audit(userID: session.userID, exchange: exchange.rawValue, action: action, success: success,
                                          error: error.map { String(describing: $0) } ?? message, fingerprint: fingerprint,
                                          address: req.remoteAddress, userAgent: req.header("user-agent"))
    }

    /// An exchange call as a value, so its typed error can be examined next to database work.
    static func call<T>(_ body: () throws(ExchangeError) -> T) -> Result<T, ExchangeError> {
        do { return .success(try body()) } catch { return .failure(error) }
    }

    static func exchange(_ req: Request) throws(APIError) -> ExchangeName {
        guard let name = req.parameter("exchange").flatMap(ExchangeName.init(rawValue:)) else {
            throw APIError.notFound("Unknown exchange; use binance or mexc")
        }
        return name
    }

    /// Exchange failures in the error contract: credentials → 400 EXCH_2001 "Invalid API credentials".
    static func refusal(_ error: ExchangeError) -> APIError {
        switch error {
        case .invalidCredentials: APIError(.invalidCredentials, "Invalid API credentials")
        case .insufficientPermissions: APIError(.insufficientPermissions, "SPOT permission required")
        default: error.apiError
        }
    }

    static func warnings(_ p: KeyPermissions) -> [String] {
        var out: [String] = []
        if p.ipRestricted == false { out.append("This key has no IP restriction: restrict it to this server's address on the exchange") }
        if p.ipRestricted == nil { out.append("The exchange does not report IP restrictions: make sure the key is restricted to this server's address") }
        if p.canWithdraw == nil { out.append("The exchange does not report withdrawal permission: make sure withdrawals are disabled for this key") }
        return out
    }

    static func render(_ c: ConnectedExchange) -> JSONValue {
        [
            "exchange": .string(c.exchange), "status": .string(c.isValid ? "connected" : "invalid"),
            "key_fingerprint": .string(c.fingerprint), "permissions": .array(c.permissions.map(JSONValue.string)),
            "ip_restricted": c.ipRestricted.map(JSONValue.bool) ?? .null, "connected_at": .string(Timestamp.iso8601(c.connectedAt)),
            "last_used_at": c.lastUsedAt.map { .string(Timestamp.iso8601($0)) } ?? .null,
            "invalid_reason": c.invalidReason.map(JSONValue.string) ?? .null,
        ]
    }
}
