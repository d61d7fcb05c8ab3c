import Core
import Database
import Domain
import Engine
import Exchange
import Foundation
import Vault

/// The run's advisory-lock session was lost (its connection dropped): another copy may be running now.
struct ReconcileLockLost: Error, CustomStringConvertible {
    var description: String { "the reconcile lock's database session was lost; run stopped" }
}

/// One reconciliation run, as recorded in `reconciliation_runs`.
public struct ReconcileRun: Sendable {
    public let id: UUID
    public let trigger: String
    public let startedAt: Date
    public var exchanges: [String] = []
    public var accountsChecked = 0
    public var accountsDeferred = 0
    public var ordersSynced = 0
    public var positionsSynced = 0
    public var divergences: [Divergence] = []
    public var actions: [JSONValue] = []
    public var balances: [String: JSONValue] = [:]
    public var weightUsed: [String: Int] = [:]
    public var status = "success"
    public var errorMessage: String?
    public var durationMs = 0
}

/// Compares our records with the exchanges (seed 004 §4.7) and repairs what is safe.
///
/// - Runs alone: a session advisory lock (`LockName.reconcile`); a second copy returns `.busy` at once.
/// - Looks at each connected account with orders in the lookback window (live orders first, then the least
///   recently reconciled), within a request-weight budget per exchange; the rest waits for the next run.
/// - Divergences: an order with our prefix the exchange has and we do not (orphan: alert only, we never touch
///   what we do not know); a live order the exchange does not have after a grace period (missing: back to
///   `unknown`, so the engine's query-before-resend rules decide); a status or fill that differs (a live or
///   failed row is repaired by adopting the exchange's state; a final row is alerted only).
/// - Every divergence is alerted once (first sighting); `unknown` executions and expired leases are then
///   resolved by the engine.
public struct Reconciler {
    let config: Config
    let settings: ReconcileSettings
    let engine: ExecutionEngine
    let logger: Logger

    public init(config: Config, logger: Logger) throws(ConfigError) {
        self.config = config
        self.logger = logger
        settings = try ReconcileSettings.fromConfig(config)
        engine = try ExecutionEngine(config: config, logger: logger)
    }

    /// What a call to `run` did.
    public enum Outcome: Sendable {
        case ran(ReconcileRun)
        case busy
    }

    public func run(trigger: String) throws -> Outcome {
        // The lock lives on a session of its own, used for nothing else: a crash releases it with the connection,
        // and a dropped session (which a reconnect would silently replace) is noticed before each account.
        let lock = try Connection(config: config, applicationName: "signalbridge-reconcile-lock", logger: logger)
        defer { lock.close() }
        guard try lock.tryAdvisoryLock(.reconcile) else { return .busy }
        defer { try? lock.advisoryUnlock(.reconcile) }
        let db = try Connection(config: config, applicationName: "signalbridge-reconcile", logger: logger)
        defer { db.close() }
        var run = ReconcileRun(id: UUID(), trigger: trigger, startedAt: Date())
        let store = ReconciliationStore(db: db)
        do {
            try reconcileAccounts(&run, store: store, db: db, lock: lock)
            // Unknown outcomes and expired leases: the engine's own resolution (query before any resend).
            let resolved = engine.run(signal: nil, resolveOnly: true)
            if resolved > 0 { run.actions.append(["action": "engine resolved unknown or stale executions", "count": .int(resolved)]) }
        } catch {
            run.status = "error"
            run.errorMessage = String(describing: error)
            logger.error("reconciliation failed", ["error": .string(run.errorMessage ?? "")])
        }
        run.durationMs = Int(Date().timeIntervalSince(run.startedAt) * 1000)
        try store.insert(run)
        logger.info("reconciliation finished", ["run_id": .string(run.id.uuidString.lowercased()), "status": .string(run.status),
                                               "accounts": .int(run.accountsChecked), "divergences": .int(run.divergences.count)])
        return .ran(run)
    }

    // MARK: accounts

    func reconcileAccounts(_ run: inout ReconcileRun, store: ReconciliationStore, db: Connection, lock: Connection) throws {
        let accounts = try store.accountsToCheck(lookback: settings.lookback)
        // An exchange paused after a per-address refusal (by the engine or an earlier run) is not called at all.
        let pauses = ExchangePauses(db: db)
        var halted = Set(try pauses.active().keys)
        var exchanges: Set<String> = []
        var window: [String: (start: Date, spent: Int)] = [:]
        for account in accounts {
            guard try lock.holdsAdvisoryLock(.reconcile) else {
                throw ReconcileLockLost()
            }
            let cost = ReconcileCost.account(exchange: account.exchange, symbols: account.symbols.count)
            // MEXC counts 500 per 10 s: pace its share of the budget over 10-second windows.
            if let perWindow = settings.perTenSeconds[account.exchange] {
                var w = window[account.exchange] ?? (Date(), 0)
                if Date().timeIntervalSince(w.start) >= 10 { w = (Date(), 0) }
                if w.spent + cost > perWindow, Date().timeIntervalSince(run.startedAt) + 10 < settings.maxDuration {
                    Thread.sleep(forTimeInterval: max(0, 10 - Date().timeIntervalSince(w.start)))
                    w = (Date(), 0)
                }
                w.spent += cost
                window[account.exchange] = w
            }
            let spent = run.weightUsed[account.exchange] ?? 0
            if halted.contains(account.exchange) || Date().timeIntervalSince(run.startedAt) > settings.maxDuration
                || spent + cost > settings.weightBudget[account.exchange, default: 0] {
                run.accountsDeferred += 1
                continue
            }
            exchanges.insert(account.exchange)
            // Charged before the calls: failed requests cost the exchange's weight too.
            run.weightUsed[account.exchange, default: 0] += cost
            let log = logger.with(["user_id": .string(account.userID.uuidString.lowercased()), "exchange": .string(account.exchange)])
            do {
                try reconcile(account, run: &run, store: store, db: db, log: log)
                run.accountsChecked += 1
                try store.markReconciled(userID: account.userID, exchange: account.exchange)
            } catch {
                // One account's trouble never stops the run; it also moves to the back of the rotation.
                run.actions.append(["account": .string("\(account.userID.uuidString.lowercased()):\(account.exchange)"),
                                    "error": .string(String(describing: error))])
                try? store.markReconciled(userID: account.userID, exchange: account.exchange)
                log.warning("account not reconciled", ["error": .string(String(describing: error))])
                guard let error = error as? ExchangeError else { continue }
                if case .rateLimited(let after, let banned) = error {
                    // The address's limit: every caller must wait, the engine's workers included.
                    halted.insert(account.exchange)
                    _ = try? pauses.pause(account.exchange, retryAfter: after, banned: banned)
                }
                if case .invalidCredentials = error {
                    // As for the engine (EC-04): the key is marked invalid and the user told, once.
                    _ = try? CredentialStore(db: db).markInvalid(userID: account.userID, exchange: account.exchange, reason: "Invalid API credentials")
                }
                if case .unavailable = error { halted.insert(account.exchange) }
                log.warning("account not reconciled", ["error": .string(String(describing: error))])
            }
        }
        run.exchanges = exchanges.sorted()
    }

    func reconcile(_ account: AccountToCheck, run: inout ReconcileRun, store: ReconciliationStore, db: Connection, log: Logger) throws {
        let credentials = CredentialStore(db: db)
        guard let (adapter, fingerprint) = try engine.openAdapter(userID: account.userID, exchange: account.exchange,
                                                                    credentials: credentials, log: log) else {
            run.actions.append(["account": .string("\(account.userID.uuidString.lowercased()):\(account.exchange)"),
                                "action": "skipped: credentials invalid"])
            return
        }
        try? credentials.audit(userID: account.userID, exchange: account.exchange, action: "reconcile", success: true, error: nil,
                               fingerprint: fingerprint, address: nil, userAgent: "reconcile")
        func spend(_ w: Int) throws(ExchangeError) {
            run.weightUsed[account.exchange, default: 0] += w
            try checkReported()
        }
        /// The exchange's own count (Binance's X-MBX-USED-WEIGHT-1M) wins over ours: other processes share the address.
        func checkReported() throws(ExchangeError) {
            if let reported = adapter.usage.usedWeight1m, reported > settings.reportedWeightCeiling[account.exchange, default: Int.max] {
                // Our own ceiling (the rest of the minute stays for order placement), not a refusal: this run stops
                // calling the exchange, the engine does not pause.
                throw ExchangeError.unavailable("request weight \(reported) past this run's ceiling")
            }
        }
        let balances = try adapter.balances()
        try checkReported()
        let held = balances.filter { $0.free + $0.locked > 0 }
        run.positionsSynced += held.count
        run.balances["\(account.userID.uuidString.lowercased()):\(account.exchange)"] =
            .object(Dictionary(held.map { ($0.asset, JSONValue.string(ExactDecimal.text($0.free + $0.locked))) }, uniquingKeysWith: { a, _ in a }))

        let since = Date().addingTimeInterval(-settings.lookback)
        for symbol in account.symbols {
            let all = try adapter.allOrders(symbol: symbol, since: since)
            let open = try adapter.openOrders(symbol: symbol)
            try checkReported()
            var onExchange: [String: ExchangeOrder] = [:]
            for order in all + open {   // open last: the fresher view of a live order
                if let id = order.clientOrderId, isSignalBridgeClientOrderId(id) { onExchange[id] = order }
            }
            run.ordersSynced += onExchange.count
            let ours = try store.orders(userID: account.userID, exchange: account.exchange, symbol: symbol, lookback: settings.lookback)
            let recorded = Dictionary(ours.map { ($0.clientOrderId, $0) }, uniquingKeysWith: { a, _ in a })

            // Orphans: ours by prefix, unknown to us.
            let strangers = onExchange.keys.filter { recorded[$0] == nil }.sorted()
            let known = try store.known(clientOrderIds: strangers)
            for id in strangers where !known.contains(id) {
                let order = onExchange[id]!
                diverge(Divergence(kind: .orphan, exchange: account.exchange, userID: account.userID, clientOrderId: id, executionID: nil,
                                   details: exchangeDetails(order), action: "alerted; left untouched (not in our records)"),
                        run: &run, store: store)
            }

            for row in ours where !row.leased {
                if let order = onExchange[row.clientOrderId] {
                    try compare(row, order, account: account, run: &run, store: store, db: db)
                } else if let sent = row.sentAt, row.status.mayHaveOrder || row.status == .filled,
                          Date().timeIntervalSince(sent) > settings.missingGrace {
                    // Not in the lists: ask for it by id before calling it missing (it may be older than the window).
                    switch Result(catching: { () throws(ExchangeError) in try adapter.queryOrder(symbol: symbol, clientOrderId: row.clientOrderId) }) {
                    case .success(let order):
                        try spend(ReconcileCost.query(exchange: account.exchange))
                        try compare(row, order, account: account, run: &run, store: store, db: db)
                    case .failure(.orderNotFound):
                        try spend(ReconcileCost.query(exchange: account.exchange))
                        try missing(row, account: account, run: &run, store: store, db: db)
                    case .failure(let error):
                        throw error
                    }
                }
            }
        }
    }

    // MARK: comparisons

    func compare(_ row: RecordedOrder, _ order: ExchangeOrder, account: AccountToCheck, run: inout ReconcileRun,
                 store: ReconciliationStore, db: Connection) throws {
        let final = order.status != .new && order.status != .partiallyFilled
        var details = exchangeDetails(order)
        details["our_status"] = .string(row.status.rawValue)
        details["our_filled"] = .string(ExactDecimal.text(row.filledQuantity))
        func divergence(_ kind: Divergence.Kind, _ action: String) -> Divergence {
            Divergence(kind: kind, exchange: account.exchange, userID: account.userID, clientOrderId: row.clientOrderId,
                       executionID: row.id, details: details, action: action)
        }
        switch row.status {
        case .unknown:
            // The engine's own business; resolved here without an alert (a lost response is not a divergence).
            guard order.status != .new else { return }
            if try repair(row, order, via: nil) {
                run.actions.append(["execution_id": .string(row.id.uuidString.lowercased()), "action": .string("unknown resolved: \(order.status.rawValue)")])
            }
        case .submitted, .partial:
            guard final || (order.status == .partiallyFilled && row.status != .partial) else { return }
            guard try repair(row, order, via: nil) else { return }
            diverge(divergence(.statusMismatch, "repaired: adopted the exchange's state (\(order.status.rawValue))"), run: &run, store: store)
        case .failed, .deadLetter:
            // We gave up on it, but it exists and something executed (or may still): take the exchange's word.
            guard order.executedQuantity > 0 || !final else { return }
            guard try repair(row, order, via: .unknown) else { return }
            diverge(divergence(.statusMismatch, "repaired: \(row.status.rawValue) → adopted the exchange's state (\(order.status.rawValue))"),
                    run: &run, store: store)
        case .filled, .cancelled, .rejected:
            let sameFill = order.executedQuantity == row.filledQuantity
            let sameState = (row.status == .filled) == (order.status == .filled)
            guard !(sameFill && sameState) else { return }
            diverge(divergence(sameState ? .fillMismatch : .statusMismatch, "alerted; final in our records, needs a person"),
                    run: &run, store: store)
        case .pending:
            // An order exists although we think nothing was sent: never send another; take the exchange's word.
            let repaired = try repair(row, order, via: .unknown)
            diverge(divergence(.statusMismatch, repaired ? "repaired: pending → adopted the exchange's state (\(order.status.rawValue))"
                                                         : "alerted; an order exists for an execution never sent"), run: &run, store: store)
        }
    }

    func missing(_ row: RecordedOrder, account: AccountToCheck, run: inout ReconcileRun, store: ReconciliationStore, db: Connection) throws {
        let details: [String: JSONValue] = ["our_status": .string(row.status.rawValue), "our_filled": .string(ExactDecimal.text(row.filledQuantity)),
                                            "sent_at": row.sentAt.map { .string(Timestamp.iso8601($0)) } ?? .null]
        var action: String
        switch row.status {
        case .partial:
            // Something executed: a resend could over-buy; a person decides.
            action = "alerted; partly filled here, unknown to the exchange: needs a person"
        case .submitted:
            let moved = try claimAndMove(row, to: .unknown, reason: "reconciliation: the exchange has no such order")
            action = moved ? "moved to unknown: the engine asks again and resends only under its rules (EC-08)" : "left: changed meanwhile"
        case .unknown:
            action = "left to the engine's resend rules (EC-08)"
        default:
            action = "alerted; final in our records, needs a person"
        }
        diverge(Divergence(kind: .missing, exchange: account.exchange, userID: account.userID, clientOrderId: row.clientOrderId,
                           executionID: row.id, details: details, action: action), run: &run, store: store)
    }

    /// Claims the execution (it may be due later: any time) and adopts the exchange's order, first moving it
    /// to `via` when its state cannot go to the order's state directly. False when someone else holds it.
    func repair(_ row: RecordedOrder, _ order: ExchangeOrder, via: ExecutionStatus?) throws -> Bool {
        let db = try Connection(config: config, applicationName: "signalbridge-reconcile", logger: logger)
        defer { db.close() }
        let executions = ExecutionStore(db: db)
        guard var claim = try executions.claim(owner: "reconcile-\(ProcessInfo.processInfo.processIdentifier)", signal: nil,
                                               execution: row.id, states: [row.status], anyTime: true) else { return false }
        if let via {
            guard try executions.transition(claim, to: via, reason: "reconciliation: the exchange has this order (\(order.status.rawValue))",
                                            actor: "reconcile") else { return false }
            claim = claim.with(status: via)
        }
        if order.status == .new {
            // Still open: `unknown` is where the engine watches it until it is final.
            if via != nil { return true }
            return try executions.transition(claim, to: .unknown, reason: "reconciliation: open on the exchange", actor: "reconcile")
        }
        try engine.adopt(claim, order: order, actor: "reconcile")
        return true
    }

    func claimAndMove(_ row: RecordedOrder, to: ExecutionStatus, reason: String) throws -> Bool {
        let db = try Connection(config: config, applicationName: "signalbridge-reconcile", logger: logger)
        defer { db.close() }
        let executions = ExecutionStore(db: db)
        guard let claim = try executions.claim(owner: "reconcile-\(ProcessInfo.processInfo.processIdentifier)", signal: nil,
                                               execution: row.id, states: [row.status], anyTime: true) else { return false }
        var update = ExecutionUpdate()
        update.nextAttemptIn = 0
        update.errorMessage = "Reconciliation: the exchange has no such order; checking again before any resend"
        return try executions.transition(claim, to: to, update: update, reason: reason, actor: "reconcile")
    }

    func diverge(_ d: Divergence, run: inout ReconcileRun, store: ReconciliationStore) {
        run.divergences.append(d)
        do {
            try store.record(d, runID: run.id)
        } catch {
            logger.error("divergence not recorded", ["error": .string(error.description), "client_order_id": .string(d.clientOrderId)])
        }
    }

    func exchangeDetails(_ order: ExchangeOrder) -> [String: JSONValue] {
        ["exchange_status": .string(order.status.rawValue), "exchange_filled": .string(ExactDecimal.text(order.executedQuantity)),
         "exchange_order_id": .string(order.exchangeOrderId), "side": .string(order.side.rawValue),
         "quantity": .string(ExactDecimal.text(order.originalQuantity)), "price": .string(ExactDecimal.text(order.price))]
    }
}
