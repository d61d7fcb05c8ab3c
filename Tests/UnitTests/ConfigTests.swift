import Core
import Foundation
import Testing

@Suite struct ConfigTests {
    @Test func defaultsApplyWhenUnsetOrEmpty() throws {
        let c = Config(environment: ["EMPTY": ""])
        #expect(c.string("MISSING", default: "d") == "d")
        #expect(c.string("EMPTY", default: "d") == "d")
        #expect(try c.int("MISSING", default: 7) == 7)
        #expect(try c.bool("MISSING", default: true))
    }

    @Test func integersAreParsedAndRangeChecked() throws {
        let c = Config(environment: ["N": " 42 ", "BAD": "4x", "BIG": "1000"])
        #expect(try c.int("N", default: 0) == 42)
        #expect(throws: ConfigError(variable: "BAD", reason: "must be an integer")) { try c.int("BAD", default: 0) }
        #expect(throws: ConfigError(variable: "BIG", reason: "must be between 1 and 100")) { try c.int("BIG", default: 1, range: 1...100) }
    }

    @Test(arguments: [("true", true), ("1", true), ("YES", true), ("on", true), ("false", false), ("0", false), ("No", false), ("off", false)])
    func booleanWords(word: String, value: Bool) throws {
        #expect(try Config(environment: ["B": word]).bool("B", default: !value) == value)
    }

    /// Security checklist: trading is off unless the environment says otherwise (the webhook, the engine and
    /// the CLI read it through `TradingEnvironment`).
    @Test func tradingIsOffUnlessTheEnvironmentSaysTrue() throws {
        #expect(try TradingEnvironment.enabled(Config(environment: [:])) == false)
        #expect(try TradingEnvironment.enabled(Config(environment: ["TRADING_ENABLED": ""])) == false)
        #expect(try TradingEnvironment.enabled(Config(environment: ["TRADING_ENABLED": "false"])) == false)
        #expect(try TradingEnvironment.enabled(Config(environment: ["TRADING_ENABLED": "true"])))
        #expect(throws: ConfigError.self) { try TradingEnvironment.enabled(Config(environment: ["TRADING_ENABLED": "maybe"])) }
    }

    @Test func booleanRejectsOtherWords() {
        #expect(throws: ConfigError.self) { try Config(environment: ["B": "maybe"]).bool("B", default: false) }
    }

    @Test func choiceIsCaseInsensitiveAndClosed() throws {
        let c = Config(environment: ["ENV": "Testnet", "BAD": "mainnet"])
        #expect(try c.choice("ENV", default: "simulator", allowed: ["simulator", "testnet", "production"]) == "testnet")
        #expect(throws: ConfigError.self) { try c.choice("BAD", default: "simulator", allowed: ["simulator", "testnet"]) }
    }

    @Test func requireNamesTheVariable() {
        let error = #expect(throws: ConfigError.self) { try Config(environment: [:]).require("DATABASE_URL") }
        #expect(error?.description == "configuration DATABASE_URL: is required but not set")
    }

    @Test func secretFromVariableOrFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sb-secret-\(UUID().uuidString)").path
        try "s3cr3t\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Config(environment: ["K": "direct"]).secret("K")?.reveal() == "direct")
        #expect(try Config(environment: ["K_FILE": path]).secret("K")?.reveal() == "s3cr3t")
        #expect(try Config(environment: [:]).secret("K") == nil)
        #expect(throws: ConfigError.self) { try Config(environment: ["K": "a", "K_FILE": path]).secret("K") }
        #expect(throws: ConfigError.self) { try Config(environment: ["K_FILE": path + ".missing"]).secret("K") }
        #expect(throws: ConfigError.self) { try Config(environment: [:]).requireSecret("K") }
    }

    @Test func emptySecretFileIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sb-empty-\(UUID().uuidString)").path
        try "\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigError.self) { try Config(environment: ["K_FILE": path]).secret("K") }
    }

    @Test func secretsNeverPrint() {
        let s = Secret("hunter2-plaintext")
        #expect("\(s)" == "REDACTED")
        #expect(String(describing: s) == "REDACTED")
        #expect(String(reflecting: s) == "REDACTED")
        var dumped = ""
        dump(s, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        struct Holder { let key: Secret }
        #expect(!String(describing: Holder(key: s)).contains("hunter2"))
        var holderDump = ""
        dump(Holder(key: s), to: &holderDump)
        #expect(!holderDump.contains("hunter2"))
        #expect(s.reveal() == "hunter2-plaintext")
    }
}
