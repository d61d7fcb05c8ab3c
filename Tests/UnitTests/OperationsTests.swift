import Core
import Domain
import Foundation
import Operations
import Testing

@Suite struct RealizedPnLTests {
    let day = Date(timeIntervalSince1970: 1_700_000_000)
    func at(_ hours: Double) -> Date { day.addingTimeInterval(hours * 3600) }
    func fill(_ side: TradeFill.Side, _ qty: String, _ price: String, _ hours: Double, account: String = "u1:binance",
              symbol: String = "BTCUSDT", quote: String = "USDT") -> TradeFill {
        TradeFill(account: account, symbol: symbol, quoteAsset: quote, side: side, quantity: Decimal(string: qty)!, price: Decimal(string: price)!,
                  time: at(hours))
    }

    @Test func sellsAreMatchedFirstInFirstOut() {
        let r = RealizedPnL.compute([fill(.buy, "0.01", "50000", 1), fill(.buy, "0.01", "52000", 2),
                                     fill(.sell, "0.015", "51000", 3)], from: at(0), to: at(24))
        // 0.01 × (51,000 − 50,000) + 0.005 × (51,000 − 52,000) = 10 − 5
        #expect(r.byQuoteAsset == ["USDT": 5])
        #expect(r.trades == 3 && r.wins == 1 && r.losses == 0)
    }

    @Test func buysBeforeThePeriodFormTheBasisButOnlyPeriodSellsCount() {
        let r = RealizedPnL.compute([fill(.buy, "0.01", "50000", -30), fill(.sell, "0.004", "51000", -20),
                                     fill(.sell, "0.006", "49000", 5)], from: at(0), to: at(24))
        #expect(r.byQuoteAsset == ["USDT": -6])
        #expect(r.trades == 1 && r.wins == 0 && r.losses == 1)
    }

    @Test func accountsAndQuotesAreKeptApartAndUnmatchedSellsAreReported() {
        let r = RealizedPnL.compute([fill(.buy, "1", "100", 1, account: "u1:mexc", symbol: "ETHBTC", quote: "BTC"),
                                     fill(.sell, "2", "110", 2, account: "u1:mexc", symbol: "ETHBTC", quote: "BTC"),
                                     fill(.sell, "0.01", "60000", 3, account: "u2:binance")], from: at(0), to: at(24))
        #expect(r.byQuoteAsset == ["BTC": 10])
        #expect(r.unmatchedQuantity == ["ETHBTC": 1, "BTCUSDT": Decimal(string: "0.01")!])
        #expect(r.wins == 1)
    }

    @Test func fillsAfterThePeriodAreIgnored() {
        let r = RealizedPnL.compute([fill(.buy, "1", "100", 1), fill(.sell, "1", "90", 25)], from: at(0), to: at(24))
        #expect(r.byQuoteAsset.isEmpty && r.trades == 1 && r.losses == 0)
    }
}

@Suite struct OperationsRulesTests {
    @Test func reconciliationIsStaleAfterThreeMinutesAndErrorWhenTheLastRunFailed() {
        var s = OperationsSnapshot()
        let now = Date()
        #expect(s.reconciliationState(now: now) == "stale")
        s.lastReconciliationSuccessAt = now.addingTimeInterval(-179)
        s.lastReconciliationStatus = "success"
        #expect(s.reconciliationState(now: now) == "ok")
        s.lastReconciliationSuccessAt = now.addingTimeInterval(-181)
        #expect(s.reconciliationState(now: now) == "stale")
        s.lastReconciliationStatus = "error"
        #expect(s.reconciliationState(now: now) == "error")
    }

    @Test func reconcileCostsFollowTheDocumentedWeights() {
        // Binance: account 20, openOrders(symbol) 6, allOrders 20; MEXC: 10, 3, 10.
        #expect(ReconcileCost.account(exchange: "binance", symbols: 2) == 72)
        #expect(ReconcileCost.account(exchange: "mexc", symbols: 1) == 23)
        #expect(ReconcileCost.query(exchange: "binance") == 4)
    }

    @Test func dailyReportText() {
        var f = DailyReport.Figures()
        f.pnl.byQuoteAsset = ["USDT": -2, "BTC": Decimal(string: "0.001")!]
        f.pnl.trades = 3
        f.pnl.wins = 1
        f.pnl.losses = 1
        f.fees = ["USDT": Decimal(string: "0.7")!]
        f.signalsReceived = 3
        let text = DailyReport.render(day: "2026-11-20", figures: f, snapshot: OperationsSnapshot(), forOperator: true)
        #expect(text.contains("SignalBridge daily report 2026-11-20 (UTC)"))
        #expect(text.contains("Realised PnL: +0.001 BTC, -2 USDT"))
        #expect(text.contains("Trades executed: 3 (wins 1, losses 1)"))
        #expect(text.contains("Fees: 0.7 USDT"))
        #expect(text.contains("Kill switch: ENGAGED"))
    }

    @Test func telegramSettingsRefusePlainHTTPOffLoopback() throws {
        #expect(throws: (any Error).self) {
            try TelegramSettings.fromConfig(Config(environment: ["TELEGRAM_API_BASE": "http://api.telegram.org"]))
        }
        let local = try TelegramSettings.fromConfig(Config(environment: ["TELEGRAM_API_BASE": "http://127.0.0.1:9103/", "TELEGRAM_OPERATOR_CHAT_ID": "42"]))
        #expect(local.apiBase == "http://127.0.0.1:9103" && local.operatorChatID == "42" && !local.isConfigured)
    }
}

@Suite struct TelegramTextTests {
    @Test func longTextsAreCutOnUTF16LengthWithoutSplittingACharacter() {
        let emoji = String(repeating: "📈", count: 3000)         // 6,000 UTF-16 units
        let cut = TelegramClient.fitted(emoji)
        #expect(cut.utf16.count <= TelegramClient.maxLength && cut.hasSuffix(" …"))
        #expect(cut.dropLast(2).allSatisfy { $0 == "📈" })
        #expect(TelegramClient.fitted("short") == "short")
    }
}
