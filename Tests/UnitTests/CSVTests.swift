import Testing
@testable import Runtime

/// RFC 4180 records and the formula-injection guard of the CSV export.
@Suite struct CSVTests {
    @Test func plainFieldsAreNotQuotedAndRecordsEndInCRLF() {
        #expect(CSV.record([.value("a"), .text("b c"), .empty, .value("-1.5")]) == "a,b c,,-1.5\r\n")
        #expect(CSV.header(["x", "y"]) == "x,y\r\n")
    }

    @Test(arguments: [
        ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("two\nlines", "\"two\nlines\""),
        ("cr\rhere", "\"cr\rhere\""), ("crlf\r\nhere", "\"crlf\r\nhere\""), ("\"", "\"\"\"\""),
    ])
    func fieldsWithSeparatorsQuotesOrLineBreaksAreQuoted(raw: String, written: String) {
        #expect(CSV.field(raw) == written)
    }

    @Test(arguments: ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "\r\nx"])
    func textStartingLikeAFormulaGetsAQuote(text: String) {
        #expect(CSV.defused(text) == "'" + text)
        #expect(CSV.record([.text(text)]).hasPrefix("'") || CSV.record([.text(text)]).hasPrefix("\"'"))
    }

    @Test func valuesAndOrdinaryTextAreLeftAlone() {
        #expect(CSV.defused("plain") == "plain")
        #expect(CSV.defused("a=b") == "a=b")
        #expect(CSV.defused("") == "")
        #expect(CSV.record([.value("-0.5"), .text("-0.5")]) == "-0.5,'-0.5\r\n")
        #expect(CSV.record([.text("=a,b")]) == "\"'=a,b\"\r\n")
    }
}
