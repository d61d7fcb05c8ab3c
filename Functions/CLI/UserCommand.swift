import Accounts
import ArgumentParser
import Core
import Crypto
import Database
import Domain
import Foundation
import Vault

/// `signalbridge user create --email … [--admin] [--password-stdin]`: creates an account (the first admin).
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage user accounts.",
                                                    subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account. Without --password-stdin a random password is generated and printed once.")

        @Option(help: "E-mail address (unique, case-insensitive).")
        var email: String

        @Flag(help: "Give the account the admin role.")
        var admin = false

        @Flag(help: "Read the password from the first line of standard input.")
        var passwordStdin = false

        func run() throws {
            guard let normalized = EmailAddress.normalized(email) else { throw ValidationError("not a valid e-mail address: \(email)") }
            var password: String
            var generated = false
            if passwordStdin {
                password = readLine(strippingNewline: true) ?? ""
                guard password.count >= 8 else { throw ValidationError("the password must be at least 8 characters") }
            } else {
                password = Base64URL.encode(SecureRandom.bytes(15))
                generated = true
            }
            let config = Config()
            let db = try Connection(config: config, applicationName: "signalbridge-cli", logger: Logger.fromConfig(config, label: "cli"))
            let hasher = PasswordHasher(logN: try config.int("PASSWORD_SCRYPT_LOG_N", default: 15, range: 10...20))
            guard let user = try UserStore(db: db).create(email: normalized, passwordHash: hasher.hash(password), role: admin ? .admin : .user) else {
                throw ValidationError("an account with this e-mail already exists")
            }
            print("created \(user.role.rawValue) \(user.email) id=\(user.id.uuidString.lowercased())")
            if generated { print("password: \(password)  (shown once)") }
        }
    }
}

/// `signalbridge webhook-key create --name … | list | revoke <id>`: keys for the signal webhook.
struct WebhookKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "webhook-key", abstract: "Manage the keys the ML system uses on the webhook.",
                                                    subcommands: [Create.self, List.self, Revoke.self])

    static func store() throws -> WebhookKeyStore {
        let config = Config()
        return WebhookKeyStore(db: try Connection(config: config, applicationName: "signalbridge-cli", logger: Logger.fromConfig(config, label: "cli")))
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once.")
        @Option(help: "A name that says who uses the key.") var name: String
        @Flag(help: "Require HMAC-signed requests (prints a signing secret too; needs SIGNALBRIDGE_MASTER_KEYS).") var signed = false
        func run() throws {
            guard !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, name.unicodeScalars.count <= 100 else {
                throw ValidationError("the name must be 1-100 characters")
            }
            let vault = signed ? try Vault.fromConfig(Config()) : nil
            let (record, key, secret) = try WebhookKeyCommand.store().create(
                name: name, createdBy: nil, sealSecret: vault.map { v in { s, id in v.seal(Array(s.utf8), userID: id, exchange: "webhook-signing") } })
            print("id:  \(record.id.uuidString.lowercased())")
            print("key: \(key)  (shown once; store it in the ML system's secrets)")
            if let secret { print("signing secret: \(secret)  (shown once; sign \"<unix seconds>.<body>\" with HMAC-SHA256)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")
        func run() throws {
            for k in try WebhookKeyCommand.store().list() {
                let state = k.revokedAt.map { "revoked \(Timestamp.iso8601($0))" } ?? "active"
                let used = k.lastUsedAt.map { Timestamp.iso8601($0) } ?? "never used"
                print("\(k.id.uuidString.lowercased())  \(k.prefix)…  \(k.name)  \(state)  \(used)")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: it stops working at once.")
        @Argument(help: "The key's id (from `list`).") var id: String
        func run() throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("not a key id: \(id)") }
            guard try WebhookKeyCommand.store().revoke(id: uuid) != nil else { throw ValidationError("no such key: \(id)") }
            print("revoked \(id)")
        }
    }
}

/// `signalbridge kill-switch [status|engage|release] [--reason …]`: the global stop for new orders.
struct KillSwitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill-switch", abstract: "Show, engage or release the global kill switch.")

    @Argument(help: "status (default), engage or release.") var action: String = "status"
    @Option(help: "Why (recorded with the change).") var reason: String?

    func run() throws {
        switch action {
        case "status": try KillSwitchCommand.apply(engage: nil, reason: reason)
        case "engage": try KillSwitchCommand.apply(engage: true, reason: reason ?? "engaged from the CLI")
        case "release": try KillSwitchCommand.apply(engage: false, reason: reason ?? "released from the CLI")
        default: throw ValidationError("action must be status, engage or release")
        }
    }

    /// Reads (`engage` nil) or sets the kill switch and prints its state; shared with `signalbridge trading`.
    static func apply(engage: Bool?, reason: String?) throws {
        let config = Config()
        let kill = KillSwitch(db: try Connection(config: config, applicationName: "signalbridge-cli", logger: Logger.fromConfig(config, label: "cli")))
        let state = try engage.map { try kill.set(engaged: $0, reason: reason, by: nil) } ?? kill.state()
        let envOn = (try? TradingEnvironment.enabled(config)) ?? false
        print("kill switch \(state.engaged ? "ENGAGED (no new orders)" : "released") since \(Timestamp.iso8601(state.updatedAt))"
              + (state.reason.map { ": \($0)" } ?? "") + (envOn ? "" : "; TRADING_ENABLED is not true in this environment"))
    }
}
