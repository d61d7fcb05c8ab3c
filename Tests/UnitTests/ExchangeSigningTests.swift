import Exchange
import Testing

/// The exchanges' published signing examples (notes: ../shared/design/exchange-protocols.md §1).
@Suite struct ExchangeSigningTests {
    static let binanceSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    static let mexcSecret = "45d0b3c26f2644f19bfb98b07741b2f5"

    @Test func binanceQueryOnly() {
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        #expect(RequestSigning.signature(secret: Self.binanceSecret, payload: payload)
                == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
    }

    @Test func binanceQueryPlusBodyWithoutSeparator() {
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
        let body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        #expect(RequestSigning.signature(secret: Self.binanceSecret, payload: query + body)
                == "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77")
    }

    @Test func binanceNonASCIIIsPercentEncodedBeforeSigning() {
        let encoded = RequestSigning.encode([
            ("symbol", "１２３４５６"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "1"),
            ("price", "0.1"), ("recvWindow", "5000"), ("timestamp", "1499827319559"),
        ])
        #expect(encoded.hasPrefix("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY"))
        #expect(RequestSigning.signature(secret: Self.binanceSecret, payload: encoded)
                == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")
    }

    @Test func mexcPayload() {
        let payload = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
        #expect(RequestSigning.signature(secret: Self.mexcSecret, payload: payload)
                == "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a")
    }

    @Test func mexcQueryPlusBody() {
        #expect(RequestSigning.signature(secret: Self.mexcSecret,
                                         payload: "symbol=BTCUSDT&side=BUY&type=LIMIT" + "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087")
                == "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592")
    }

    @Test func signaturesAreLowerCaseHex() {
        let s = RequestSigning.signature(secret: "k", payload: "a=1")
        #expect(s.count == 64 && s == s.lowercased())
    }

    @Test func percentEncodingKeepsUnreservedOnly() {
        #expect(RequestSigning.percentEncode("aZ09-_.~") == "aZ09-_.~")
        #expect(RequestSigning.percentEncode("a b&c=d/[\"x\"]") == "a%20b%26c%3Dd%2F%5B%22x%22%5D")
    }
}
