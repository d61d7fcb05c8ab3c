import Accounts
import Core
import Database
import Domain
import Exchange
import Foundation
import HTTPClient
import Vault

/// Settings of the engine, from the environment (docs/configuration.md).
public struct EngineSettings: Sendable {
    public var tradingEnabled: Bool
    public var slippagePct: Decimal
    public var signalMaxAge: TimeInterval
    public var maxSends: Int
    public var workers: Int
    /// How many executions a worker claims in one statement (each is then handled in turn under its lease).
    public var claimBatch: Int
    public var callsPerMinute: Int
    public var recvWindowMs: Int
    public var exchangeTimeout: Double
    /// A `submitted` execution untouched this long lost its worker mid-send; the sweep resolves it by query.
    public var staleSubmitted: TimeInterval
    /// After a lost response, how long "no such order" answers must go on before a resend is safe: the
    /// exchange refuses anything older than timestamp + recvWindow, and its backend times out after 10 s.
    public var unknownGrace: TimeInterval
    /// Binance's request weight used this minute by the address (its `X-MBX-USED-WEIGHT-1M`) at which the engine
    /// pauses Binance until the next minute rather than wait for the 429 (Binance allows 6,000 per minute per
    /// address; the benchmark raises both the simulator's limit and this).
    public var binanceWeightCeiling: Int

    public static func fromConfig(_ config: Config) throws(ConfigError) -> EngineSettings {
        EngineSettings(
            tradingEnabled: try TradingEnvironment.enabled(config),
            slippagePct: Decimal(try config.double("SLIPPAGE_MAX_PCT", default: 0.01, range: 0...0.1)),
            signalMaxAge: TimeInterval(try config.int("SIGNAL_MAX_AGE_SECONDS", default: 300, range: 5...86400)),
            maxSends: 3,
            workers: try config.int("ENGINE_WORKERS", default: 8, range: 1...64),
            claimBatch: try config.int("ENGINE_CLAIM_BATCH", default: 4, range: 1...32),
            callsPerMinute: try config.int("EXCHANGE_CALLS_PER_USER_PER_MINUTE", default: 10, range: 1...1000),
            recvWindowMs: 5000,
            exchangeTimeout: try config.double("EXCHANGE_TIMEOUT_SECONDS", default: 10, range: 0.5...60),
            staleSubmitted: TimeInterval(try config.int("ENGINE_STALE_SUBMITTED_SECONDS", default: 30, range: 1...3600)),
            unknownGrace: TimeInterval(try config.int("ENGINE_UNKNOWN_GRACE_SECONDS", default: 15, range: 1...600)),
            binanceWeightCeiling: try config.int("ENGINE_BINANCE_WEIGHT_CEILING", default: 5400, range: 1...1_000_000_000))
    }
}

/// Places the orders of executions (seed §6.2): claims them from the table, sizes them from the user's limits
/// and balance, sends each once as an IOC limit order at the reference price ± slippage, and records every
/// outcome as a state transition. Used after the webhook's response and by the scheduled sweep.
///
/// Workers run in parallel, each with its own database connection and HTTP client; they coordinate only
/// through the rows they claim (`FOR UPDATE SKIP LOCKED` + lease).
public struct ExecutionEngine: Sendable {
    let config: Config
    let settings: EngineSettings
    let vault: Vault
    let environment: ExchangeEnvironment
    let allowProduction: Bool
    let logger: Logger

    public init(config: Config, logger: Logger) throws(ConfigError) {
        self.config = config
        self.logger = logger
        settings = try EngineSettings.fromConfig(config)
        vault = try Vault.fromConfig(config)
        environment = try ExchangeEnvironment.fromConfig(config)
        allowProduction = try config.bool("EXCHANGE_ALLOW_PRODUCTION", default: false)
    }

    /// Works until nothing due is left: the executions of `signal` (after a webhook), or every due one (sweep:
    /// pending, unknown, and expired leases). Returns how many executions were handled.
    ///
    /// `first` runs on the calling thread while the workers connect to the database, and they claim nothing
    /// before it returns (the webhook writes the signal's execution rows there). A sweep first turns into
    /// execution rows every fan-out decision a webhook process left when it died before doing so (`FanoutStore`).
    @discardableResult
    public func run(signal: UUID?, execution: UUID? = nil, workers: Int? = nil, resolveOnly: Bool = false,
                    first: (() -> Void)? = nil) -> Int {
        let count = max(1, min(workers ?? settings.workers, settings.workers))
        let handled = Counter()
        if signal == nil && execution == nil { expandLeftDecisions() }
        // Real threads: the workers spend their time waiting on the exchange and the database, and
        // DispatchQueue.concurrentPerform runs only as many iterations at once as there are cores (2 here).
        let done = DispatchGroup(), ready = DispatchGroup()
        ready.enter()
        for index in 0..<count {
            done.enter()
            let thread = Thread { [self] in
                let worker = Worker(engine: self, name: "\(ProcessInfo.processInfo.processIdentifier)-\(index)")
                try? worker.db.connect()  // a failure shows again, and is logged, at the first claim
                ready.wait()
                // A process without TRADING_ENABLED places nothing and cancels nothing (an operator's shell running
                // `engine sweep` must not cancel the queue): it only resolves outcomes already in flight.
                let placing = !resolveOnly && settings.tradingEnabled
                handled.add(worker.drain(signal: signal, execution: execution, states: placing ? [.pending, .unknown] : [.unknown]))
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        first?()
        ready.leave()
        done.wait()
        return handled.value
    }
}

extension ExecutionEngine {
    /// Expands every waiting fan-out decision, oldest first. A failure is logged and left to the next sweep (a
    /// decision stays until its expansion commits).
    func expandLeftDecisions() {
        let db = Connection(url: (try? config.requireSecret("DATABASE_URL")) ?? Secret(""), applicationName: "signalbridge-engine", logger: logger)
        defer { db.close() }
        let store = FanoutStore(db: db)
        do {
            while let created = try store.expandOldest(actor: "engine") {
                logger.warning("fan-out decision left by a webhook process expanded by the sweep", ["executions": .int(created)])
            }
        } catch {
            logger.error("fan-out decisions not expanded; the next sweep retries", ["error": .string(error.description)])
        }
    }

    /// The user's adapter for `exchange` with their decrypted key, and the key's fingerprint; nil when the
    /// credentials are missing, marked invalid, or fail to open (logged, never the key).
    public func openAdapter(userID: UUID, exchange: String, credentials: CredentialStore, log: Logger) throws -> (any ExchangeAdapter, String)? {
        guard let (connected, blob) = try credentials.find(userID: userID, exchange: exchange) else { return nil }
        return try openAdapter(userID: userID, exchange: exchange,
                               stored: StoredCredentials(isValid: connected.isValid, fingerprint: connected.fingerprint, blob: blob), log: log)
    }

    /// The same from credentials already read (with a claim).
    public func openAdapter(userID: UUID, exchange: String, stored: StoredCredentials?, log: Logger,
                            http: HTTPClient? = nil) throws -> (any ExchangeAdapter, String)? {
        guard let stored, stored.isValid else { return nil }
        let blob = stored.blob
        let plaintext: [UInt8]
        do {
            plaintext = try vault.open(blob, userID: userID, exchange: exchange)
        } catch {
            log.error("stored credentials failed to open", ["error": .string(error.description)])
            return nil
        }
        let (key, secret) = try SealedCredentials.decode(plaintext)
        let creds = ExchangeCredentials(apiKey: key, apiSecret: secret)
        let timeout = settings.exchangeTimeout
        let adapter: any ExchangeAdapter = exchange == "binance"
            ? BinanceAdapter(baseURL: environment.binanceBaseURL, credentials: creds, timeout: timeout, allowProduction: allowProduction, http: http)
            : MEXCAdapter(baseURL: environment.mexcBaseURL, credentials: creds, timeout: timeout, allowProduction: allowProduction, http: http)
        return (adapter, stored.fingerprint)
    }

    /// Records what the exchange says about an execution the caller claimed (the reconciliation's repair), with
    /// the same transitions, notifications and partial-failure alert as the engine's own adoption.
    public func adopt(_ claim: ClaimedExecution, order: ExchangeOrder, actor: String) throws {
        let worker = Worker(engine: self, name: claim.leaseOwner, actor: actor)
        defer { worker.db.close() }
        try worker.adopt(claim, order, store: ExecutionStore(db: worker.db), log: logger)
    }
}

/// An order this worker placed whose outcome is not recorded yet (nor, when its acknowledgment did not say how
/// it ended, as MEXC's does not, asked for yet).
struct Placed {
    let claim: ClaimedExecution
    let adapter: any ExchangeAdapter
    let acknowledgment: ExchangeOrder
    let keyUse: KeyUse
    let log: Logger
    let placedAt: Date
}

/// A thread-safe tally for the workers.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ n: Int) { lock.withLock { total += n } }
    var value: Int { lock.withLock { total } }
}

/// One worker: its own connection, HTTP clients and caches of public market data.
final class Worker {
    let engine: ExecutionEngine
    let name: String
    let db: Connection
    var rules: [String: SymbolRules] = [:]
    var prices: [String: (Decimal, Date)] = [:]
    /// One HTTP client per exchange, so calls other than order placements reuse a kept-alive connection.
    var httpClients: [String: HTTPClient] = [:]
    /// The kill switch as last read, re-read at most once a second (a release or engage applies within 1 s).
    var halt: (engaged: Bool, at: Date)?
    /// Exchanges this worker paused (a rate limit): the rest of its claimed batch waits too, without calling.
    var pausedUntil: [String: Date] = [:]
    /// Orders placed and not recorded yet, in the order they were placed. A worker records outcomes (asking MEXC,
    /// whose acknowledgment carries no fill, how each order ended) once it has nothing left to place, or once the
    /// first has waited `Worker.recordWithin` (checked before each execution): every order of a fan-out reaches
    /// the exchange before anyone's bookkeeping. The write-ahead `submitted` row covers the gap (a worker that dies
    /// here leaves it to the sweep, which asks the exchange).
    var placed: [Placed] = []
    /// Well inside the lease (60 s) and the sweep's stale-`submitted` rescue (30 s by default), so an order waiting
    /// for its outcome to be recorded is never taken for one whose worker died.
    static let recordWithin: TimeInterval = 5
    var log: Logger
    /// Who the events name: the engine, or the reconciliation when it repairs a row.
    let actor: String

    init(engine: ExecutionEngine, name: String, actor: String = "engine") {
        self.engine = engine
        self.name = name
        self.actor = actor
        log = engine.logger.with(["worker": .string(name)])
        db = Connection(url: (try? engine.config.requireSecret("DATABASE_URL")) ?? Secret(""), applicationName: "signalbridge-engine", logger: engine.logger)
    }

    func drain(signal: UUID?, execution: UUID?, states: [ExecutionStatus] = [.pending, .unknown]) -> Int {
        var handled = 0
        let store = ExecutionStore(db: db)
        while true {
            let claims: [ClaimedExecution]
            do {
                // The webhook works its own signal; the sweep (signal nil) also rescues executions whose worker died.
                // A few at a time: one claim statement (lease, attempt, SEC-05 count) serves several executions.
                claims = try store.claim(owner: name, signal: signal, execution: execution, states: states,
                                         staleAfter: signal == nil && execution == nil ? max(engine.settings.staleSubmitted, 3 * engine.settings.exchangeTimeout + 1) : nil,
                                         limit: execution == nil ? engine.settings.claimBatch : 1, countCalls: true)
            } catch {
                log.error("claim failed", ["error": .string(error.description)])
                recordPlaced(store: store)
                return handled
            }
            if claims.isEmpty {
                recordPlaced(store: store)
                return handled
            }
            let claimedAt = Date()
            for claim in claims {
                if let first = placed.first, Date().timeIntervalSince(first.placedAt) >= Worker.recordWithin {
                    recordPlaced(store: store)
                }
                // The batch's leases run from the claim: a row reached after half of it (slow exchanges) goes
                // back to the queue now rather than risk its lease expiring mid-send (the attempt fence would
                // still refuse a second sender's write-ahead, but the work would be wasted).
                if Date().timeIntervalSince(claimedAt) > Double(ExecutionStore.leaseSeconds) / 2 {
                    try? store.reschedule(claim, in: 0, note: "Released unhandled: its worker's batch ran long")
                    continue
                }
                handled += 1
                let context = log.with(["execution_id": .string(claim.id.uuidString.lowercased()), "signal_id": .string(claim.signalRef),
                                        "exchange": .string(claim.exchange)])
                do {
                    try handle(claim, store: store, log: context)
                } catch {
                    // Leave it for the sweep: the lease expires and the attempt is counted.
                    context.error("execution step failed", ["error": .string(String(describing: error))])
                }
            }
        }
    }

    // MARK: one execution

    func handle(_ claim: ClaimedExecution, store: ExecutionStore, log: Logger) throws {
        let credentials = CredentialStore(db: db)
        if let until = pausedUntil[claim.exchange], until > Date(), claim.status == .pending || claim.status == .unknown {
            // Claimed with a batch before this worker paused the exchange: wait for the pause like everyone else.
            return try store.reschedule(claim, in: until.timeIntervalSinceNow + Double.random(in: 0...1),
                                        note: "Exchange paused after a rate limit (EC-03)")
        }
        if claim.status == .submitted || claim.status == .partial {
            // Its worker died after the write-ahead: the order may exist. Never resend blindly: ask first.
            guard try store.transition(claim, to: .unknown, update: note("Worker lost while sending; checking with the exchange"),
                                       reason: "stale \(claim.status.rawValue) rescued by the sweep", actor: "sweep") else { return }
            return try resolveUnknown(claim.with(status: .unknown), store: store, credentials: credentials, log: log)
        }
        if claim.status == .unknown {
            return try resolveUnknown(claim, store: store, credentials: credentials, log: log)
        }
        // Gates that apply before anything is sent (EC-07, kill switch, EC-01 max age).
        let halted = try !engine.settings.tradingEnabled || killSwitchEngaged()
        if halted {
            return try store.move(claim, to: .cancelled, update: note("Kill switch engaged: nothing new starts"),
                                        reason: "kill switch engaged", actor: actor)
        }
        if !claim.userActive || !claim.tradingEnabled {
            return try store.move(claim, to: .cancelled, update: note("Trading was switched off before the order was sent"),
                                        reason: "trading disabled (EC-07)", actor: actor)
        }
        if !claim.manualRetry, Date().timeIntervalSince(claim.signalTimestamp) > engine.settings.signalMaxAge {
            return try store.move(claim, to: .failed, update: note("Signal expired before the order could be sent"),
                                        reason: "signal older than \(Int(engine.settings.signalMaxAge)) s (EC-01)", actor: actor,
                                        notifications: [Notification(userID: claim.userID, kind: "execution_failed",
                                                                     text: "\(claim.side.uppercased()) \(claim.exchangeSymbol) on \(claim.exchange.uppercased()) was not placed: the signal expired while the exchange was unavailable.")])
        }
        guard let (adapter, fingerprint) = try openAdapter(claim, credentials: credentials, log: log) else {
            return try store.move(claim, to: .rejected, update: note("Exchange credentials are invalid; reconnect the exchange"),
                                        reason: "credentials invalid (EC-04)", actor: actor)
        }
        // SEC-05: the claim counted this call in the user's budget (a claim that counted nothing counts it here).
        let withinBudget = try claim.callNumber.map { $0 <= engine.settings.callsPerMinute }
            ?? credentials.takeCallBudget(userID: claim.userID, limit: engine.settings.callsPerMinute)
        guard withinBudget else {
            let wait = Double(60 - Int(Date().timeIntervalSince1970) % 60) + 1
            return try store.reschedule(claim, in: wait, note: "Per-user exchange call budget reached (SEC-05)")
        }

        // Sizing on the user's free balance, the exchange's rules and the reference price.
        let action: TradingAction = claim.side == "sell" ? .sell : .buy
        let market: (SymbolRules, Decimal, [Balance])
        switch call({ () throws(ExchangeError) in
            (try self.symbolRules(adapter, claim), try self.price(adapter, claim), try adapter.balances())
        }) {
        case .success(let m): market = m
        case .failure(let error):
            return try notSent(claim, error, store: store, credentials: credentials, fingerprint: fingerprint, log: log, wasSubmitted: false)
        }
        try pauseNearTheWeightLimit(adapter, log: log)
        let (symbolRules, reference, balances) = market
        let paying = action == .buy ? symbolRules.quoteAsset : symbolRules.baseAsset
        let free = balances.first { $0.asset == paying }?.free ?? 0
        let decision = OrderSizing.decide(OrderSizing.Input(
            action: action, riskProfile: claim.riskProfile, positionSizePct: claim.positionSizePct, freeBalance: free,
            referencePrice: reference, stepSize: symbolRules.stepSize, minQuantity: symbolRules.minQuantity,
            minNotional: symbolRules.minNotional, slippagePct: engine.settings.slippagePct))
        guard case .order(let quantity, let limit, let raised) = decision else {
            guard case .skip(let reason) = decision else { return }
            return try store.move(claim, to: .rejected, update: note(reason.message),
                                        reason: "\(reason.rawValue) (\(reason == .insufficientBalance ? "EC-02" : "EC-10"))", actor: actor,
                                        notifications: [Notification(userID: claim.userID, kind: "execution_skipped",
                                                                     text: "\(claim.side.uppercased()) \(claim.exchangeSymbol) skipped on \(claim.exchange.uppercased()): \(reason.message).")])
        }
        let prepared: OrderRules.Prepared
        do {
            prepared = try OrderRules.prepare(quantity: quantity, price: limit, side: action == .buy ? .buy : .sell,
                                              referencePrice: reference, rules: symbolRules)
        } catch {
            return try store.move(claim, to: .rejected, update: note(error.description), reason: "order rules (EC-10)", actor: actor)
        }
        var update = ExecutionUpdate()
        update.requestedQuantity = prepared.quantity
        update.referencePrice = reference
        update.limitPrice = prepared.price
        update.submittedNow = true
        if action == .buy {
            let levels = OrderSizing.protectiveLevels(price: reference, stopLossPct: claim.stopLossPct, takeProfitPct: claim.takeProfitPct)
            update.stopLossPrice = levels.stopLoss
            update.takeProfitPrice = levels.takeProfit
        }
        // Write-ahead: `submitted` is recorded before the request leaves, so a crash after sending is never
        // mistaken for "not sent" (the sweep queries before any resend).
        guard try store.transition(claim, to: .submitted, update: update,
                                   reason: "sending IOC limit \(ExactDecimal.text(prepared.price ?? limit)) qty \(ExactDecimal.text(prepared.quantity))\(raised ? " (raised to the exchange minimum)" : "")",
                                   actor: actor) else { return }
        let submitted = claim.with(status: .submitted)
        try send(submitted, adapter: adapter, quantity: prepared.quantity, price: prepared.price ?? limit, store: store,
                 credentials: credentials, fingerprint: fingerprint, log: log)
    }

    func send(_ claim: ClaimedExecution, adapter: any ExchangeAdapter, quantity: Decimal, price: Decimal, store: ExecutionStore,
              credentials: CredentialStore, fingerprint: String, log: Logger) throws {
        let request = OrderRequest(symbol: claim.exchangeSymbol, side: claim.side == "sell" ? .sell : .buy,
                                   kind: .limit(price: price, timeInForce: .immediateOrCancel), quantity: quantity,
                                   clientOrderId: claim.clientOrderId)
        let outcome = call({ () throws(ExchangeError) in try adapter.submitOrder(request) })
        switch outcome {
        case .success(let order):
            // The key's use is audited by the statement that records the outcome (one commit for both).
            // Recorded (and for MEXC asked for) after this worker's other placements: `recordPlaced`.
            placed.append(Placed(claim: claim, adapter: adapter, acknowledgment: order,
                                 keyUse: KeyUse(action: "use_for_trade", success: true, error: nil, fingerprint: fingerprint),
                                 log: log, placedAt: Date()))
        case .failure(let error):
            try? credentials.audit(userID: claim.userID, exchange: claim.exchange, action: "use_for_trade", success: false,
                                   error: String(describing: error), fingerprint: fingerprint, address: nil, userAgent: "engine")
            try notSent(claim, error, store: store, credentials: credentials, fingerprint: fingerprint, log: log, wasSubmitted: true)
        }
    }

    /// Binance counts request weight per address and minute, for every process behind it: once its own count
    /// (`X-MBX-USED-WEIGHT-1M`, read after the balance — 20 of the ~21 an execution costs) reaches the ceiling,
    /// Binance is paused for everyone until the next minute begins, before a 429 (repeated ones get the address
    /// banned). The execution in hand still places its order (1 more).
    func pauseNearTheWeightLimit(_ adapter: any ExchangeAdapter, log: Logger) throws {
        guard adapter.exchange == .binance, let used = adapter.usage.usedWeight1m, used >= engine.settings.binanceWeightCeiling else { return }
        let now = Date().timeIntervalSince1970
        let seconds = 60 - now.truncatingRemainder(dividingBy: 60) + 0.5
        let until = try ExchangePauses(db: db).pause(adapter.exchange.rawValue, seconds: seconds,
                                                     reason: "request weight \(used) used this minute (ceiling \(engine.settings.binanceWeightCeiling))")
        pausedUntil[adapter.exchange.rawValue] = until
        log.warning("Binance paused until the next minute: request weight near the limit", ["used_weight": .int(used)])
    }

    /// Records the outcome of every order placed and not recorded yet, first asking the state of those whose
    /// acknowledgment did not tell it (`.new`). The order exists whatever happens here: a status query that fails
    /// records the acknowledgment (accepted, final state to confirm later through `unknown`), never "not sent". A
    /// rate limit pauses the exchange (EC-03) and the rest of its orders are recorded that way without calling it.
    func recordPlaced(store: ExecutionStore) {
        let list = placed
        placed = []
        for entry in list {
            let claim = entry.claim
            var order = entry.acknowledgment
            if order.status == .new, (pausedUntil[claim.exchange].map { $0 <= Date() } ?? true) {
                switch call({ () throws(ExchangeError) in try entry.adapter.queryOrder(symbol: claim.exchangeSymbol, clientOrderId: claim.clientOrderId) }) {
                case .success(let found): order = found
                case .failure(let error):
                    entry.log.warning("status of an accepted order not read; confirmed later", ["error": .string(String(describing: error))])
                    if case .rateLimited(let after, let banned) = error {
                        pausedUntil[claim.exchange] = (try? ExchangePauses(db: db).pause(claim.exchange, retryAfter: after, banned: banned))
                            ?? Date().addingTimeInterval(Double(after ?? 60))
                    }
                }
            }
            do {
                try adopt(claim, order, store: store, log: entry.log, keyUse: entry.keyUse)
            } catch {
                entry.log.error("execution step failed", ["error": .string(String(describing: error))])
            }
        }
    }

    /// The exchange answered with the order: record what it says (with `keyUse`, the audit row of the request
    /// that placed it).
    func adopt(_ claim: ClaimedExecution, _ order: ExchangeOrder, store: ExecutionStore, log: Logger, keyUse: KeyUse? = nil) throws {
        var update = ExecutionUpdate()
        update.exchangeOrderId = order.exchangeOrderId
        update.filledQuantity = order.executedQuantity
        update.filledPrice = order.averagePrice
        let fees = order.fills.reduce(Decimal(0)) { $0 + $1.commission }
        if !order.fills.isEmpty {
            update.fees = fees
            update.feesCurrency = order.fills.first?.commissionAsset
        }
        if order.executedQuantity > 0 { update.executedAt = order.updatedAt ?? Date() }
        let what = "\(claim.side.uppercased()) \(ExactDecimal.text(order.executedQuantity)) \(claim.exchangeSymbol) on \(claim.exchange.uppercased())"
        switch order.status {
        case .filled:
            try finish(claim, to: .filled, update: update, reason: "filled", store: store, keyUse: keyUse,
                       note: Notification(userID: claim.userID, kind: "execution_filled",
                                          text: "\(what) filled at \(order.averagePrice.map { ExactDecimal.text($0, places: 2) } ?? "?")."))
        case .partiallyFilled:
            try finish(claim, to: .partial, update: update, reason: "partially filled", store: store, keyUse: keyUse, note: nil)
        case .cancelled, .expired:
            update.errorMessage = order.executedQuantity > 0
                ? "IOC partially filled (\(ExactDecimal.text(order.executedQuantity)) of \(ExactDecimal.text(order.originalQuantity))); the rest expired at the slippage limit"
                : "Not filled: the price moved beyond the slippage limit (EC-05)"
            try finish(claim, to: .cancelled, update: update, reason: "IOC expired (EC-05)", store: store, keyUse: keyUse,
                       note: Notification(userID: claim.userID, kind: order.executedQuantity > 0 ? "execution_partial" : "execution_cancelled",
                                          text: order.executedQuantity > 0
                                            ? "\(what) partially filled at \(order.averagePrice.map { ExactDecimal.text($0, places: 2) } ?? "?"); the rest did not fill within the slippage limit."
                                            : "\(claim.side.uppercased()) \(claim.exchangeSymbol) on \(claim.exchange.uppercased()) did not fill within the slippage limit."))
        case .rejected:
            update.errorMessage = "Rejected by the exchange"
            try finish(claim, to: .rejected, update: update, reason: "rejected by the exchange", store: store, keyUse: keyUse, note: nil)
        case .new:
            // Accepted, final state not known yet (e.g. MEXC's follow-up query failed): confirm later.
            update.nextAttemptIn = 2
            try store.move(claim, to: .unknown, update: update, reason: "accepted; awaiting final state", actor: actor, keyUse: keyUse)
        }
    }

    /// A final transition, then the user's partial-execution alert when this was the last of their executions
    /// for the signal and some succeeded while others did not (US-03).
    func finish(_ claim: ClaimedExecution, to: ExecutionStatus, update: ExecutionUpdate, reason: String, store: ExecutionStore,
                keyUse: KeyUse? = nil, note: Notification?) throws {
        guard try store.transition(claim, to: to, update: update, reason: reason, actor: actor, notifications: note.map { [$0] } ?? [],
                                   keyUse: keyUse) else { return }
        let siblings = try store.siblings(signalRef: claim.signalRef, userID: claim.userID)
        guard siblings.count > 1, siblings.allSatisfy({ $0.status.isTerminal || $0.status == .failed }) else { return }
        let ok = siblings.filter { $0.status == .filled || $0.status == .partial || $0.filled }.map(\.exchange)
        let bad = siblings.filter { ($0.status == .failed || $0.status == .rejected || $0.status == .cancelled) && !$0.filled }.map(\.exchange)
        guard !ok.isEmpty, !bad.isEmpty else { return }
        try ExecutionStore.enqueue(Notification(
            userID: claim.userID, kind: "partial_execution",
            text: "Signal \(claim.signalRef) executed on \(ok.joined(separator: ", ").uppercased()) but failed on \(bad.joined(separator: ", ").uppercased()). The successful orders stand.",
            dedupeKey: "partial:\(claim.signalRef):\(claim.userID.uuidString.lowercased())"), on: db)
    }

    /// The request failed. `wasSubmitted`: it may have reached the exchange (the execution is `submitted`).
    func notSent(_ claim: ClaimedExecution, _ error: ExchangeError, store: ExecutionStore, credentials: CredentialStore,
                 fingerprint: String, log: Logger, wasSubmitted: Bool) throws {
        let from: ExecutionStatus = wasSubmitted ? .submitted : claim.status
        func backoff() -> TimeInterval { min(60, pow(2, Double(claim.attempts))) * Double.random(in: 0.5...1.5) }
        switch error {
        case .outcomeUnknown(let why):
            var update = ExecutionUpdate()
            update.errorMessage = "Outcome unknown (\(why)); checking with the exchange"
            update.nextAttemptIn = 1
            guard try store.transition(claim, from: from, to: .unknown, update: update, reason: "response lost: \(why)", actor: actor) else { return }
            // Ask right away (the attempt fence still holds this claim); if the exchange cannot say yet, the sweep asks again.
            try resolveUnknown(claim.with(status: .unknown), store: store, credentials: credentials, log: log)
        case .rateLimited(let after, let banned):
            // EC-03: refused before execution, and the limit is this address's: every account waits as told (the
            // whole exchange is paused for every worker and process), this one with jitter after the pause.
            let until = try ExchangePauses(db: db).pause(claim.exchange, retryAfter: after, banned: banned)
            pausedUntil[claim.exchange] = until
            log.warning("exchange paused after a rate limit", ["until": .string(Timestamp.iso8601(until)), "banned": .bool(banned)])
            try back(claim, from: from, in: max(0, until.timeIntervalSinceNow) + Double.random(in: 0...1),
                     why: "rate limited by the exchange (EC-03)", store: store)
        case .orderRateLimited(let after):
            // EC-03 for one account's order count: only this execution waits as told, with jitter.
            try back(claim, from: from, in: Double(after ?? 1) + Double.random(in: 0...1), why: "rate limited by the exchange (EC-03)", store: store)
        case .timestampOutsideRecvWindow, .unavailable:
            // EC-01: not executed; retried while the signal is fresh (the age gate fails it after that).
            try back(claim, from: from, in: backoff(), why: "exchange unavailable: \(error) (EC-01)", store: store)
        case .invalidCredentials:
            try credentials.markInvalid(userID: claim.userID, exchange: claim.exchange, reason: "Invalid API credentials")
            try store.move(claim, from: from, to: .rejected, update: note("The exchange rejected the API key; reconnect the exchange (EC-04)"),
                                 reason: "credentials rejected (EC-04)", actor: actor)
        case .insufficientBalance(let m):
            try finish(claim.with(status: from), to: .rejected, update: note("Insufficient balance (EC-02): \(m)"), reason: "insufficient balance (EC-02)",
                       store: store, note: nil)
        case .belowMinimum(let m), .filterRejected(let m):
            try finish(claim.with(status: from), to: .rejected, update: note("Below the exchange minimum (EC-10): \(m)"), reason: "exchange filters (EC-10)",
                       store: store, note: nil)
        case .duplicateOrder:
            // An open order with our id exists: it is ours, so find out what it is.
            try store.move(claim, from: from, to: .unknown, update: note("Exchange reports an order with this id"), reason: "duplicate id", actor: actor)
        default:
            // EC-09: an answer we do not understand. Full response in the log (never a secret), failed, alert.
            log.error("exchange error", ["error": .string(String(describing: error))])
            try finish(claim.with(status: from), to: .failed, update: note("Exchange error: \(error)"), reason: "unexpected exchange error (EC-09)",
                       store: store, note: Notification(userID: nil, kind: "execution_failed",
                                                        text: "Execution \(claim.id.uuidString.lowercased()) on \(claim.exchange) failed: \(error)"))
        }
    }

    /// Back to `pending` (nothing reached the exchange) or stays pending, to retry in `seconds`.
    func back(_ claim: ClaimedExecution, from: ExecutionStatus, in seconds: TimeInterval, why: String, store: ExecutionStore) throws {
        if from == .pending { return try store.reschedule(claim, in: seconds, note: why) }
        var update = note(why)
        update.nextAttemptIn = seconds
        try store.move(claim, from: from, to: .pending, update: update, reason: why, actor: actor)
    }

    /// `unknown`: query by client order id before anything else; adopt what exists; resend with the same id
    /// only when the exchange has said three times, after the recvWindow and its 10 s backend timeout, that the
    /// order does not exist; at most `maxSends` sends in all (EC-08).
    func resolveUnknown(_ claim: ClaimedExecution, store: ExecutionStore, credentials: CredentialStore, log: Logger) throws {
        guard let (adapter, fingerprint) = try openAdapter(claim, credentials: credentials, log: log) else {
            return try store.move(claim, to: .failed, update: note("Credentials invalid while the outcome was unknown; check the exchange"),
                                        reason: "credentials invalid while unknown", actor: actor)
        }
        switch call({ () throws(ExchangeError) in try adapter.queryOrder(symbol: claim.exchangeSymbol, clientOrderId: claim.clientOrderId) }) {
        case .success(let order):
            if order.status == .new {
                return try store.reschedule(claim, in: 2, note: "order open on the exchange; waiting for its final state")
            }
            try adopt(claim, order, store: store, log: log)
        case .failure(.orderNotFound):
            let count = claim.notFoundCount + 1
            let windowPassed = Date().timeIntervalSince(claim.unknownSince ?? claim.submittedAt ?? .distantPast) > engine.settings.unknownGrace
            guard count >= 3, windowPassed else {
                return try store.setNotFoundCount(claim, count, retryIn: windowPassed ? 1 : 5)
            }
            // The order certainly does not exist. A resend is a new order: the same gates as a first send apply.
            // A process without TRADING_ENABLED leaves the decision to one that places orders.
            if !engine.settings.tradingEnabled {
                return try store.reschedule(claim, in: 30, note: "no such order on the exchange; a resend waits for an engine with TRADING_ENABLED")
            }
            // Partly filled before it got lost: resending the full quantity would over-buy. A person decides.
            if claim.filledQuantity > 0 {
                return try finish(claim, to: .failed, update: note("Partly filled, then lost on the exchange; not resent"),
                                  reason: "partly filled order missing; no resend", store: store,
                                  note: Notification(userID: nil, kind: "execution_failed",
                                                     text: "Execution \(claim.id.uuidString.lowercased()) was partly filled and is no longer found on \(claim.exchange); not resent, needs a person."))
            }
            if try killSwitchEngaged() || !claim.userActive || !claim.tradingEnabled {
                return try finish(claim, to: .cancelled, update: note("Not resent: trading was halted or switched off"),
                                  reason: "resend refused by the gates (EC-07)", store: store, note: nil)
            }
            if !claim.manualRetry, Date().timeIntervalSince(claim.signalTimestamp) > engine.settings.signalMaxAge {
                return try finish(claim, to: .failed, update: note("Not resent: the signal expired"), reason: "signal expired before a resend (EC-01)",
                                  store: store, note: nil)
            }
            // Resend with the same id, at most `maxSends` sends in all (EC-08).
            let sends = try store.sendCount(claim.id)
            guard sends < engine.settings.maxSends, let quantity = claim.requestedQuantity, let price = claim.limitPrice else {
                return try finish(claim, to: .failed, update: note("Not placed after \(sends) tries (EC-08)"),
                                  reason: "network failures exhausted the tries (EC-08)", store: store,
                                  note: Notification(userID: claim.userID, kind: "execution_failed",
                                                     text: "\(claim.side.uppercased()) \(claim.exchangeSymbol) on \(claim.exchange.uppercased()) failed after repeated network errors."))
            }
            var update = ExecutionUpdate()
            update.notFoundCount = 0
            update.submittedNow = true
            guard try store.transition(claim, to: .submitted, update: update, reason: "exchange has no such order; resending with the same id",
                                       actor: actor) else { return }
            try send(claim.with(status: .submitted), adapter: adapter, quantity: quantity, price: price, store: store,
                     credentials: credentials, fingerprint: fingerprint, log: log)
        case .failure(let error):
            if case .invalidCredentials = error {
                try credentials.markInvalid(userID: claim.userID, exchange: claim.exchange, reason: "Invalid API credentials")
            }
            try store.reschedule(claim, in: min(30, pow(2, Double(claim.attempts))), note: "status query failed: \(error)")
        }
    }

    // MARK: helpers

    func killSwitchEngaged() throws -> Bool {
        if let halt, Date().timeIntervalSince(halt.at) < 1 { return halt.engaged }
        let engaged = try KillSwitch(db: db).state().engaged
        halt = (engaged, Date())
        return engaged
    }

    /// The claim's own credentials (read with it): no further statement. The worker's HTTP client for that
    /// exchange: balance, price and status calls reuse its kept-alive connection from one execution to the next.
    func openAdapter(_ claim: ClaimedExecution, credentials: CredentialStore, log: Logger) throws -> (any ExchangeAdapter, String)? {
        let http = httpClients[claim.exchange] ?? HTTPClient()
        httpClients[claim.exchange] = http
        return try engine.openAdapter(userID: claim.userID, exchange: claim.exchange, stored: claim.storedCredentials, log: log, http: http)
    }

    func symbolRules(_ adapter: any ExchangeAdapter, _ claim: ClaimedExecution) throws(ExchangeError) -> SymbolRules {
        let key = claim.exchange + ":" + claim.exchangeSymbol
        if let cached = rules[key] { return cached }
        let fresh = try adapter.symbolRules(claim.exchangeSymbol)
        rules[key] = fresh
        return fresh
    }

    /// The reference price, cached for 2 s per worker (one signal fans out to many users at once).
    func price(_ adapter: any ExchangeAdapter, _ claim: ClaimedExecution) throws(ExchangeError) -> Decimal {
        let key = claim.exchange + ":" + claim.exchangeSymbol
        if let (p, at) = prices[key], Date().timeIntervalSince(at) < 2 { return p }
        let p = try adapter.tickerPrice(claim.exchangeSymbol)
        prices[key] = (p, Date())
        return p
    }

    func note(_ message: String) -> ExecutionUpdate {
        var u = ExecutionUpdate()
        u.errorMessage = message
        return u
    }

    func call<T>(_ body: () throws(ExchangeError) -> T) -> Result<T, ExchangeError> {
        do { return .success(try body()) } catch { return .failure(error) }
    }
}

extension ClaimedExecution {
    /// The same claim after a transition this worker made (the attempt fence is unchanged).
    public func with(status: ExecutionStatus) -> ClaimedExecution {
        ClaimedExecution(id: id, status: status, attempts: attempts, userID: userID, exchange: exchange, exchangeSymbol: exchangeSymbol,
                         side: side, clientOrderId: clientOrderId, signalRef: signalRef, signalTimestamp: signalTimestamp,
                         requestedQuantity: requestedQuantity, limitPrice: limitPrice, submittedAt: submittedAt,
                         unknownSince: status == .unknown && self.status != .unknown ? Date() : unknownSince,
                         notFoundCount: status == .unknown && self.status != .unknown ? 0 : notFoundCount, manualRetry: manualRetry, leaseOwner: leaseOwner, filledQuantity: filledQuantity, userActive: userActive, tradingEnabled: tradingEnabled,
                         riskProfile: riskProfile, positionSizePct: positionSizePct, stopLossPct: stopLossPct, takeProfitPct: takeProfitPct,
                         storedCredentials: storedCredentials, callNumber: callNumber)
    }
}
