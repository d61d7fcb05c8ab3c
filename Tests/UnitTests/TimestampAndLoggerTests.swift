import Core
import Foundation
import Testing

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 1_795_255_530.123)) == "2026-11-21T10:05:30.123Z")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500Z")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
        // Past the four-digit years of the fast path: the general one.
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
    }

    @Test(arguments: [
        ("2026-11-21T10:05:30Z", 1_795_255_530.0),
        ("2026-11-21T10:05:30.123Z", 1_795_255_530.123),
        ("2026-11-21T11:05:30+01:00", 1_795_255_530.0),
        ("2026-11-21 10:05:30.123456+00", 1_795_255_530.123456),
        ("2026-11-21 05:05:30-05", 1_795_255_530.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func parses(text: String, seconds: Double) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test(arguments: ["", "2026-11-21", "2026-13-01T00:00:00Z", "2026-11-21T10:05:30", "2026-11-21T10:05:30.Z", "2026-11-21T10:05:30Zjunk"])
    func rejects(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}

@Suite struct LoggerTests {
    @Test func linesAreJSONWithMetadataAndFields() throws {
        let sink = LogSink.capturing()
        let logger = Logger(label: "test", sink: sink).with(["request_id": "r1"])
        logger.info("hello \"world\"\n", ["count": 3])
        let line = try #require(sink.lines.first)
        #expect(!line.contains("\n"))
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        guard case .object(let o) = value else { Issue.record("not an object"); return }
        #expect(o["msg"] == "hello \"world\"\n")
        #expect(o["request_id"] == "r1")
        #expect(o["count"] == 3)
        #expect(o["level"] == "info")
        #expect(o["logger"] == "test")
    }

    @Test func levelFilters() {
        let sink = LogSink.capturing()
        let logger = Logger(label: "t", level: .warning, sink: sink)
        logger.debug("no")
        logger.info("no")
        logger.warning("yes")
        logger.error("yes")
        #expect(sink.lines.count == 2)
    }

    @Test func fieldsOfAFilteredLineAreNeverBuilt() {
        let logger = Logger(label: "t", level: .warning, sink: LogSink.capturing())
        var built = 0
        func fields() -> [String: JSONValue] {
            built += 1
            return ["n": 1]
        }
        logger.info("no", fields())
        logger.debug("no", fields())
        #expect(built == 0)
        logger.warning("yes", fields())
        #expect(built == 1)
    }

    @Test func levelFromConfig() {
        #expect(Logger.fromConfig(Config(environment: ["LOG_LEVEL": "DEBUG"]), label: "x").level == .debug)
        #expect(Logger.fromConfig(Config(environment: ["LOG_LEVEL": "nonsense"]), label: "x").level == .info)
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSONValue.string("a\u{01}b").jsonText == "\"a\\u0001b\"")
    }

    @Test func stringsAreQuotedWholeOrEscaped() {
        #expect(JSONValue.string("plain ü €").jsonText == "\"plain ü €\"")
        #expect(JSONValue.string("q\"b\\n\nt\t").jsonText == "\"q\\\"b\\\\n\\nt\\t\"")
        #expect(JSONValue.string("").jsonText == "\"\"")
    }
}
