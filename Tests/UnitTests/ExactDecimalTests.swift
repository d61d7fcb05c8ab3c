import Core
@testable import Exchange
import Foundation
import Testing

@Suite struct ExactDecimalTests {
    @Test func decimalArithmeticIsExact() throws {
        let a = try #require(ExactDecimal.parse("0.1")), b = try #require(ExactDecimal.parse("0.2"))
        #expect(a + b == ExactDecimal.parse("0.3"))
        #expect(ExactDecimal.text(a + b) == "0.3")
    }

    @Test(arguments: ["", ".", "-", "1e5", "1.2.3", " 1", "1,5", "abc", "0x10"])
    func rejectsNonDecimals(text: String) {
        #expect(ExactDecimal.parse(text) == nil)
    }

    @Test func formatsWithFixedPlaces() throws {
        #expect(ExactDecimal.text(try #require(ExactDecimal.parse("0.1")), places: 8) == "0.10000000")
        #expect(ExactDecimal.text(try #require(ExactDecimal.parse("50000")), places: 2) == "50000.00")
        #expect(ExactDecimal.text(try #require(ExactDecimal.parse("0.123456789")), places: 8) == "0.12345679")
        #expect(ExactDecimal.text(try #require(ExactDecimal.parse("0.00100000"))) == "0.001")
    }

    @Test func floorAndCeilToStep() throws {
        let step = try #require(ExactDecimal.parse("0.00001"))
        #expect(ExactDecimal.floor(try #require(ExactDecimal.parse("0.0123456")), step: step) == ExactDecimal.parse("0.01234"))
        #expect(ExactDecimal.ceil(try #require(ExactDecimal.parse("0.0123401")), step: step) == ExactDecimal.parse("0.01235"))
        #expect(ExactDecimal.floor(try #require(ExactDecimal.parse("7.3")), step: 0) == ExactDecimal.parse("7.3"))
        #expect(ExactDecimal.isMultiple(try #require(ExactDecimal.parse("0.03")), of: try #require(ExactDecimal.parse("0.01"))))
        #expect(!ExactDecimal.isMultiple(try #require(ExactDecimal.parse("0.035")), of: try #require(ExactDecimal.parse("0.01"))))
        #expect(ExactDecimal.places(ofStep: try #require(ExactDecimal.parse("0.00100000"))) == 3)
        #expect(ExactDecimal.places(ofStep: 1) == 0)
    }
}

@Suite struct OrderRulesTests {
    let rules = SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", trading: true,
                            tickSize: ExactDecimal.parse("0.01")!, stepSize: ExactDecimal.parse("0.00001")!,
                            minQuantity: ExactDecimal.parse("0.00001")!, maxQuantity: ExactDecimal.parse("9000")!,
                            minNotional: ExactDecimal.parse("5")!, maxNotional: ExactDecimal.parse("9000000")!)

    @Test func quantityRoundsDownToTheStep() throws {
        let p = try OrderRules.prepare(quantity: ExactDecimal.parse("0.0123456")!, price: nil, side: .buy,
                                       referencePrice: ExactDecimal.parse("50000")!, rules: rules)
        #expect(p.quantity == ExactDecimal.parse("0.01234"))
        #expect(p.price == nil)
    }

    @Test func priceRoundsToTheTickNeverMoreAggressive() throws {
        let buy = try OrderRules.prepare(quantity: 1, price: ExactDecimal.parse("100.019")!, side: .buy, referencePrice: 100, rules: rules)
        #expect(buy.price == ExactDecimal.parse("100.01"))
        let sell = try OrderRules.prepare(quantity: 1, price: ExactDecimal.parse("100.011")!, side: .sell, referencePrice: 100, rules: rules)
        #expect(sell.price == ExactDecimal.parse("100.02"))
    }

    @Test func belowMinimumNotionalIsRefused() {
        let error = #expect(throws: ExchangeError.self) {
            try OrderRules.prepare(quantity: ExactDecimal.parse("0.00009")!, price: nil, side: .buy,
                                   referencePrice: ExactDecimal.parse("50000")!, rules: rules)
        }
        guard case .belowMinimum? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func quantityRoundingToZeroIsBelowMinimum() {
        let error = #expect(throws: ExchangeError.self) {
            try OrderRules.prepare(quantity: ExactDecimal.parse("0.000001")!, price: nil, side: .buy, referencePrice: 50000, rules: rules)
        }
        guard case .belowMinimum? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func aboveMaximumIsRefused() {
        #expect(throws: ExchangeError.self) {
            try OrderRules.prepare(quantity: 9001, price: nil, side: .sell, referencePrice: 1, rules: rules)
        }
    }

    @Test func haltedSymbolIsRefused() {
        var halted = rules
        halted.trading = false
        #expect(throws: ExchangeError.self) { try OrderRules.prepare(quantity: 1, price: nil, side: .buy, referencePrice: 100, rules: halted) }
    }
}

@Suite struct ExchangeFieldTests {
    @Test func jsonNumbersWithExponentsAreRead() {
        #expect(Field.decimal(.double(0.00001)) == ExactDecimal.parse("0.00001"))
        #expect(Field.decimal(.double(1e16)) == ExactDecimal.parse("10000000000000000"))
        #expect(Field.decimal(.string("0.10000000")) == ExactDecimal.parse("0.1"))
        #expect(Field.decimal(.int(5)) == 5)
        #expect(Field.decimal(.double(.infinity)) == nil)
    }
}
