import Core
import Crypto
import Database
import Domain
import Engine
import Foundation
import Runtime
import Vault

/// The TradingSignal contract (seed §3.4), validated exactly.
struct TradingSignal {
    let signalID: String
    let timestamp: Date
    let timestampText: String
    let symbol: String
    let action: TradingAction
    let confidence: Decimal
    let modelVersion: String
    let source: String
    let featuresJSON: String?
}

struct SignalWebhook {
    let db: Connection
    let engine: ExecutionEngine
    let logger: Logger
    let maxAge: TimeInterval
    let maxSkew: TimeInterval
    let tradingEnabled: Bool
    let vault: Vault
    /// The connection fan-out decisions are expanded on, after the response (one expansion at a time).
    let expansion: ExpansionConnection
    /// Signed requests must be this fresh (and not from further ahead).
    static let signatureWindow: TimeInterval = 300

    static let unauthorized = APIError(.invalidToken, "Missing or invalid X-API-Key")

    /// Signed mode: `X-SignalBridge-Timestamp: <unix seconds>` and `X-SignalBridge-Signature: v1=<hex
    /// HMAC-SHA256(signing secret, "<timestamp>.<raw body>")>`, at most 300 s old or ahead. Returns whether the
    /// request is signed and valid; a signature that does not verify is a 401 (never silently "unsigned").
    func verifySignature(_ req: Request, keyHash: ByteaParameter) throws -> Bool {
        guard let header = req.header("x-signalbridge-signature") else { return false }
        let bad = APIError(.invalidToken, "Invalid or stale request signature")
        guard let tsText = req.header("x-signalbridge-timestamp"), let ts = Int(tsText),
              abs(Date().timeIntervalSince1970 - Double(ts)) <= SignalWebhook.signatureWindow,
              header.hasPrefix("v1="), let presented = Hex.decode(String(header.dropFirst(3))),
              let row = try db.queryOne(Queries.signingKey, [keyHash]) else { throw bad }
        let secret: [UInt8]
        do {
            secret = try vault.open(try row.bytes("signing_secret_blob"), userID: try row.uuid("id"), exchange: "webhook-signing")
        } catch {
            logger.error("webhook signing secret failed to open", ["request_id": .string(req.requestID)])
            throw APIError.internalError()
        }
        let expected = HMACSHA256.mac(key: secret, message: Array((tsText + ".").utf8) + req.body)
        guard ConstantTime.equals(presented, expected) else { throw bad }
        return true
    }

    init(config: Config, db: Connection, engine: ExecutionEngine, logger: Logger) throws {
        self.db = db
        expansion = ExpansionConnection(db: try Connection(config: config, applicationName: "signalbridge-webhook", logger: logger))
        self.engine = engine
        self.logger = logger
        maxAge = TimeInterval(try config.int("SIGNAL_MAX_AGE_SECONDS", default: 300, range: 5...86400))
        maxSkew = TimeInterval(try config.int("SIGNAL_MAX_FUTURE_SKEW_SECONDS", default: 30, range: 0...3600))
        tradingEnabled = try TradingEnvironment.enabled(config)
        vault = try Vault.fromConfig(config)
    }

    /// Validates, then one statement authenticates, stores and fans out (`Queries.receive`). Only when it
    /// stored nothing do further queries find out why (bad key, replay, unlisted symbol).
    func receive(_ req: Request) throws -> Response {
        guard let key = req.header("x-api-key"), !key.isEmpty, key.utf8.count <= 200 else { throw SignalWebhook.unauthorized }
        let keyHash = ByteaParameter(SHA256.hash(key))
        let signal: TradingSignal
        do {
            signal = try validate(req)
        } catch {
            // A caller without a valid key learns nothing about the contract: 401 before any 422.
            if try db.queryOne(Queries.keyValid, [keyHash], idempotent: true) == nil { throw SignalWebhook.unauthorized }
            throw error
        }
        let signed = try verifySignature(req, keyHash: keyHash)
        let payloadHash = SHA256.hash(req.body)
        let stored: Row?
        if signal.action == .hold {
            stored = try db.queryOne(Queries.receiveHold, [
                signal.signalID, signal.timestampText, signal.symbol, signal.action.rawValue, "\(signal.confidence)", signal.modelVersion,
                signal.source, signal.featuresJSON, keyHash, ByteaParameter(payloadHash), signed,
            ])
        } else {
            stored = try db.queryOne(Queries.receive, [
                signal.signalID, signal.timestampText, signal.symbol, signal.action.rawValue, "\(signal.confidence)", signal.modelVersion,
                signal.source, signal.featuresJSON, keyHash, ByteaParameter(payloadHash), tradingEnabled, signed,
            ])
        }
        guard let row = stored else {
            let why = try db.queryOne(Queries.diagnose, [keyHash, signal.symbol, signed])
            if try why?.bool("key_ok") != true {
                throw APIError(.invalidToken, "Missing or invalid X-API-Key, or this key requires a signed request")
            }
            touchKey(keyHash, requestID: req.requestID)  // an authenticated use, even if it stores nothing (rare)
            if let existing = try db.queryOne(Queries.findSignal, [signal.signalID]) {
                return try replay(existing, payloadHash: payloadHash, signalID: signal.signalID)  // EC-06
            }
            throw APIError.validation([FieldProblem("symbol", "Unsupported symbol \(signal.symbol)")])
        }
        // Once a minute per key at most, and before the answer, so a caller who sees the acknowledgment also sees
        // the key as used (one extra round trip a minute; the UPDATE inside the statement cost every request).
        if try row.bool("touch_due") { touchKey(keyHash, requestID: req.requestID) }
        let id = try row.uuid("id"), receivedAt = try row.date("received_at")
        let executions = try row.int("executions"), skipped = try row.int("skipped"), halted = try row.bool("halted")
        var response = acknowledge(signal, receivedAt: receivedAt, executions: executions, skipped: skipped, halted: halted,
                                   requestID: req.requestID)
        if executions > 0 {
            let engine = self.engine, log = logger, expansion = self.expansion
            response.afterResponse = {
                // The decision becomes its execution rows (while the engine's workers connect), then the workers
                // place them. If this process dies first, the next sweep expands and places them. This runs on a
                // thread of its own while the process serves other requests (FunctionRuntime+Grouped.swift), so
                // the expansion has a connection of its own, kept warm for the next fan-out.
                let handled = engine.run(signal: id, first: {
                    expansion.lock.lock()
                    defer { expansion.lock.unlock() }
                    let db = expansion.db
                    do {
                        let (decided, created) = try FanoutStore(db: db).expand(signal: id, actor: "webhook")
                        if created < decided {
                            log.warning("fewer executions than decided pairs (a user deleted or a symbol delisted since)",
                                        ["signal_id": .string(signal.signalID), "decided": .int(decided), "created": .int(created)])
                        }
                    } catch {
                        log.error("fan-out decision not expanded; the next sweep does it", ["signal_id": .string(signal.signalID),
                                                                                             "error": .string(String(describing: error))])
                    }
                })
                log.info("signal executed", ["signal_id": .string(signal.signalID), "handled": .int(handled)])
            }
        }
        return response
    }

    /// The acknowledgment of a signal just stored (and its log line).
    func acknowledge(_ signal: TradingSignal, receivedAt: Date, executions: Int, skipped: Int, halted: Bool, requestID: String) -> Response {
        logger.info("signal received", ["request_id": .string(requestID), "signal_id": .string(signal.signalID),
                                        "action": .int(signal.action.rawValue), "executions": .int(executions), "skipped": .int(skipped)])
        return SignalWebhook.acknowledgment(
            signalID: signal.signalID, receivedAt: receivedAt, status: executions > 0 ? "queued" : "received",
            executions: executions, skipped: skipped,
            reason: signal.action == .hold ? "HOLD: nothing to execute" : halted ? "Trading is halted (kill switch)" : nil)
    }

    /// The key's last-used time (at most once a minute, `Queries.touchKey`); best effort: the request's outcome
    /// never depends on it.
    func touchKey(_ keyHash: ByteaParameter, requestID: String) {
        do { try db.query(Queries.touchKey, [keyHash]) } catch {
            logger.warning("webhook key last-used time not updated", ["request_id": .string(requestID), "error": .string(error.description)])
        }
    }

    /// The TradingSignal contract: 422 naming every offending field; stale or future signals refused.
    func validate(_ req: Request) throws -> TradingSignal {
        var body = try FieldReader(req, allowed: ["signal_id", "timestamp", "symbol", "action", "confidence", "model_version", "source", "features_snapshot"])
        let signalID = body.string("signal_id", required: true, maxLength: 50)
        if let id = signalID, id.isEmpty || !id.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || [45, 46, 58, 95].contains($0) }) {
            body.reject("signal_id", "must be 1-50 characters of [A-Za-z0-9._:-]")
        }
        let timestampText = body.string("timestamp", required: true, maxLength: 40)
        let timestamp = timestampText.flatMap(Timestamp.parse)
        if timestampText != nil && timestamp == nil { body.reject("timestamp", "must be an RFC 3339 date-time") }
        let symbol = body.string("symbol", required: true, maxLength: 21)
        if let symbol, !TradingConfig.isValidSymbol(symbol) { body.reject("symbol", "must match ^[A-Z]{3,10}/[A-Z]{3,10}$") }
        let action = body.int("action", required: true, range: 0...2)
        let confidence = body.decimal("confidence", required: true, range: 0...1, places: 3)
        let modelVersion = body.string("model_version", required: true, maxLength: 20)
        let source = body.string("source", maxLength: 20) ?? "ml_model"
        if !["ml_model", "manual", "external"].contains(source) { body.reject("source", "must be ml_model, manual or external") }
        var features: String?
        if body.has("features_snapshot") {
            switch body.value("features_snapshot") {
            case .object(let o)?: features = JSONValue.object(o).jsonText
            case .null?: features = nil
            default: body.reject("features_snapshot", "must be an object")
            }
        }
        try body.finish()
        let age = Date().timeIntervalSince(timestamp!)
        if age > maxAge {
            throw APIError.validation([FieldProblem("timestamp", "signal is \(Int(age)) s old; the limit is \(Int(maxAge)) s")])
        }
        if -age > maxSkew {
            throw APIError.validation([FieldProblem("timestamp", "signal is \(Int(-age)) s in the future; the limit is \(Int(maxSkew)) s")])
        }
        return TradingSignal(signalID: signalID!, timestamp: timestamp!, timestampText: Timestamp.iso8601(timestamp!), symbol: symbol!,
                             action: TradingAction(rawValue: action!)!, confidence: confidence!, modelVersion: modelVersion!,
                             source: source, featuresJSON: features)
    }

    func replay(_ row: Row, payloadHash: [UInt8], signalID: String) throws -> Response {
        if let stored = try? row.bytes("payload_hash"), stored != payloadHash {
            throw APIError(.conflict, "signal_id \(signalID) was already used for a different signal",
                           details: ["signal_id": .string(signalID)])
        }
        let executions = try row.int("executions")
        let reason = try row.int("action") == TradingAction.hold.rawValue ? "HOLD: nothing to execute"
            : executions == 0 && (try row.bool("halted")) ? "Trading is halted (kill switch)" : nil
        var response = SignalWebhook.acknowledgment(
            signalID: signalID, receivedAt: try row.date("received_at"), status: executions > 0 ? "queued" : "received",
            executions: executions, skipped: try row.int("skipped"), reason: reason)
        response.headers.append(("Idempotent-Replayed", "true"))
        return response
    }

    /// SignalAcknowledgment (seed §3.4) with the fan-out counts, as a JSON response. Written directly, keys in
    /// sorted order like every `JSONValue` object (the dictionary and its sort cost ~2 % of the box under load).
    static func acknowledgment(signalID: String, receivedAt: Date, status: String, executions: Int, skipped: Int, reason: String?) -> Response {
        var text = "{\"executions\":\(executions),\"received_at\":\""
        text += Timestamp.iso8601(receivedAt)
        text += "\",\"rejection_reason\":"
        if let reason { JSONValue.appendQuoted(reason, to: &text) } else { text += "null" }
        text += ",\"signal_id\":"
        JSONValue.appendQuoted(signalID, to: &text)
        text += ",\"skipped\":\(skipped),\"status\":"
        JSONValue.appendQuoted(status, to: &text)
        text += "}"
        return Response(status: 200, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }
}

/// The connection the after-response work expands fan-out decisions on: not the request loop's (that one serves the
/// next requests meanwhile), shared by the signals whose orders are being placed, one at a time.
final class ExpansionConnection: @unchecked Sendable {
    let db: Connection
    let lock = NSLock()

    init(db: Connection) { self.db = db }
}
