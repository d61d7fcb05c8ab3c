import ArgumentParser
import Core

/// The operator command line: `signalbridge <command>`. Reads the same environment as the functions.
@main
struct SignalBridgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signalbridge",
        abstract: "Operate a SignalBridge deployment.",
        version: SignalBridgeVersion.current,
        subcommands: [MigrateCommand.self, StatusCommand.self, UserCommand.self, WebhookKeyCommand.self, KillSwitchCommand.self, VaultCommand.self, EngineCommand.self, TradingCommand.self, DeadLetterCommand.self, ReconcileCommand.self])
}
