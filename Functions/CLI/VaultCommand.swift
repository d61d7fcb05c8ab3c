import ArgumentParser
import Core
import Database
import Vault

/// `signalbridge vault rotate|status`: re-seal stored exchange keys under the current master key.
struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vault", abstract: "Master-key rotation for stored exchange keys.",
                                                    subcommands: [Rotate.self, Status.self])

    static func rotation() throws -> VaultRotation {
        let config = Config()
        return VaultRotation(db: try Connection(config: config, applicationName: "signalbridge-cli", logger: Logger.fromConfig(config, label: "cli")),
                             vault: try Vault.fromConfig(config))
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every blob under SIGNALBRIDGE_MASTER_KEY_ID. Safe while serving; resumable; old keys keep working until done.")
        @Option(help: "Rows per transaction.") var batch = 100
        @Option(help: "Stop after this many rows (resume later by running again).") var limit: Int?

        func run() throws {
            let rotation = try VaultCommand.rotation()
            let done = try rotation.run(batchSize: batch, limit: limit) { print("re-sealed \($0)") }
            let left = try rotation.remaining()
            print("re-sealed \(done) blob(s); \(left) left under older keys\(left == 0 ? ": the old master keys can be removed" : "")")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How many blobs are still sealed with older keys.")
        func run() throws {
            print("\(try VaultCommand.rotation().remaining()) blob(s) under older keys")
        }
    }
}
