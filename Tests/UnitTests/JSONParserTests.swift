@testable import Core
import Foundation
import Testing
@testable import Runtime

/// JSONParser replaces JSONDecoder → JSONValue on request bodies, exchange replies and tokens: it must accept
/// and refuse exactly the same documents and give the same values.
@Suite struct JSONParserTests {
    static func viaDecoder(_ text: [UInt8]) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text)) }

    static let documents: [String] = [
        #"{"signal_id":"a-1","timestamp":"2026-01-01T00:00:00Z","symbol":"BTC/USDT","action":2,"confidence":0.85,"model_version":"v1"}"#,
        #"  {"a" : [1, 2.5, -3, 0, -0, 1e2, 1E-2, 2.0, 12345678901234567890, -9223372036854775808, 9223372036854775807] }  "#,
        #"{"n":null,"t":true,"f":false,"s":"","o":{},"a":[],"nested":{"x":[{"y":[null]}]}}"#,
        #"{"esc":"\"\\\/\b\f\n\r\t\u0041\u00e9\u4e2d\ud83d\ude00","nul":"a\u0000b"}"#,
        "{\"utf8\":\"é中😀\"}",
        #"[1,"two",{"three":3}]"#, "42", "-1.5", #""text""#, "true", "null",
        #"{"price":"0.00001234","qty":1.00000000,"big":1.7976931348623157e308,"small":5e-324}"#,
        // Refused by both.
        "", " ", "{", "}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "+1", "1e", "1e+",
        "tru", "nul", "NaN", "Infinity", "[1] x", "{\"a\":\"\n\"}", #"{"a":"\x"}"#, #"{"a":"\u12"}"#,
        #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#, #"{"a":"\ud800\u0041"}"#, "1e400", "'a'", "[\"a\"\"b\"]",
    ]

    @Test(arguments: documents) func sameAsJSONDecoder(_ text: String) {
        let bytes = Array(text.utf8)
        let expected = JSONParserTests.viaDecoder(bytes)
        let got = try? JSONParser.parse(bytes)
        #expect(got == expected, "\(text)")
    }

    /// Stricter than JSONDecoder on purpose: trailing commas and repeated member names are refused.
    @Test(arguments: [#"[1,]"#, #"{"a":1,}"#, #"{"dup":1,"dup":2}"#, #"{"a":{"b":1,"b":1}}"#])
    func strictWhereJSONDecoderIsLenient(_ text: String) {
        #expect(JSONParserTests.viaDecoder(Array(text.utf8)) != nil)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func invalidUTF8IsRefused() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D]] {
            #expect(JSONParserTests.viaDecoder(bytes) == nil)
            #expect((try? JSONParser.parse(bytes)) == nil)
        }
    }

    @Test func nestingIsBounded() {
        let deep = Array(String(repeating: "[", count: 600).utf8) + Array(String(repeating: "]", count: 600).utf8)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(deep) }
        let fine = Array(String(repeating: "[", count: 100).utf8) + Array(String(repeating: "]", count: 100).utf8)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    @Test func errorsSayWhere() {
        #expect(throws: JSONParser.SyntaxError(offset: 7, reason: "expected ',' or '}'")) { try JSONParser.parse(Array(#"{"a":1 "b":2}"#.utf8)) }
    }

    /// Every prefix of a valid document is refused the same way by both (truncated bodies).
    @Test func truncatedDocuments() {
        let full = Array(#"{"signal_id":"a-1","confidence":0.85,"features_snapshot":{"rsi":[30.5,"x\u00e9"]}}"#.utf8)
        for end in 0..<full.count {
            let prefix = Array(full[..<end])
            #expect((try? JSONParser.parse(prefix)) == JSONParserTests.viaDecoder(prefix), "prefix \(end)")
        }
    }

    @Test func mediaTypes() {
        #expect(Request.isJSONMediaType("application/json".utf8))
        #expect(Request.isJSONMediaType(" Application/JSON ; charset=utf-8".utf8))
        #expect(!Request.isJSONMediaType("application/jsonx".utf8))
        #expect(!Request.isJSONMediaType("text/plain".utf8))
        #expect(!Request.isJSONMediaType("".utf8))
    }
}
