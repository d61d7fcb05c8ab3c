import ArgumentParser
import Core
import Database
import Engine

/// `signalbridge engine sweep`: works every due execution (pending, unknown, expired leases) until none is
/// left. The scheduled retry job runs the same code every minute.
struct EngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engine", abstract: "Run the execution engine by hand.",
                                                    subcommands: [Sweep.self])

    struct Sweep: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Work every due execution, then exit.")
        @Option(help: "Parallel workers (default ENGINE_WORKERS or 8).") var workers: Int?
        func run() throws {
            let config = Config()
            let handled = try ExecutionEngine(config: config, logger: Logger.fromConfig(config, label: "engine")).run(signal: nil, workers: workers)
            print("handled \(handled) execution(s)")
        }
    }
}

/// `signalbridge trading on|off|status`: the global kill switch in trading terms (off = engaged). Takes effect
/// at the next claim: orders already sent complete; nothing new starts.
struct TradingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trading", abstract: "Stop or resume all trading (the kill switch).")
    @Argument(help: "on, off or status.") var action: String = "status"
    @Option(help: "Why (recorded).") var reason: String?

    func run() throws {
        switch action {
        case "status": try KillSwitchCommand.apply(engage: nil, reason: nil)
        case "off": try KillSwitchCommand.apply(engage: true, reason: reason ?? "trading off from the CLI")
        case "on": try KillSwitchCommand.apply(engage: false, reason: reason ?? "trading on from the CLI")
        default: throw ValidationError("action must be on, off or status")
        }
    }
}
