// swift-tools-version:6.0
// SignalBridge: stateless Swift functions behind nginx (FastCGI) and cron, coordinating through PostgreSQL.
import PackageDescription

/// Settings shared by every Swift target.
let swiftSettings: [SwiftSetting] = [
    // `any P` spelled out for existentials: the cost of dynamic dispatch stays visible.
    .enableUpcomingFeature("ExistentialAny"),
]

/// One executable per HTTP function or scheduled task; each can be built and deployed alone.
let functions: [(name: String, dependencies: [Target.Dependency])] = [
    ("Account", ["Runtime", "Database", "Domain", "Accounts", "Identity"]),
    ("Activity", ["Runtime", "Database", "Accounts", "Identity"]),
    ("Admin", ["Runtime", "Database", "Domain", "Accounts", "Identity", "Vault"]),
    ("Auth", ["Runtime", "Database", "Domain", "Crypto", "Accounts", "Identity"]),
    ("Connect", ["Runtime", "Database", "Domain", "Accounts", "Identity", "Exchange", "Vault"]),
    ("Health", ["Runtime", "Database", "Engine", "Exchange", "HTTPClient", "Operations"]),
    ("Webhook", ["Runtime", "Database", "Crypto", "Domain", "Accounts", "Engine", "Vault"]),
    ("Orders", ["Runtime", "Database", "Accounts", "Identity", "Engine", "Operations"]),
    ("Reconciliation", ["Runtime", "Database", "Identity", "Operations"]),
    ("History", ["Runtime", "Database", "Domain", "Accounts", "Identity"]),
    // Scheduled (cron/signalbridge.cron): run once and exit.
    ("Reconcile", ["Core", "Database", "Operations"]),
    ("DeadLetterRetry", ["Core", "Database", "Engine", "Operations"]),
    ("DailyReport", ["Core", "Database", "Operations"]),
]

let package = Package(
    name: "SignalBridge",
    platforms: [.macOS(.v14)],
    products: functions.map { .executable(name: $0.name, targets: [$0.name]) } + [
        .executable(name: "signalbridge", targets: ["CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, each a module map + shim header (apt providers are hints printed when missing).
        .systemLibrary(name: "CFastCGI", path: "Shared/CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CPostgres", path: "Shared/CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Shared/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", path: "Shared/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Shared Swift libraries.
        .target(name: "Core", path: "Shared/Core", swiftSettings: swiftSettings),
        .target(name: "Crypto", dependencies: ["COpenSSL"], path: "Shared/Crypto", swiftSettings: swiftSettings),
        .target(name: "Runtime", dependencies: ["Core", "CFastCGI"], path: "Shared/Runtime", swiftSettings: swiftSettings),
        .target(name: "Database", dependencies: ["Core", "Crypto", "CPostgres"], path: "Shared/Database", swiftSettings: swiftSettings),
        .target(name: "HTTPClient", dependencies: ["Core", "CCurl"], path: "Shared/HTTPClient", swiftSettings: swiftSettings),
        .target(name: "Exchange", dependencies: ["Core", "Crypto", "HTTPClient"], path: "Shared/Exchange", swiftSettings: swiftSettings),
        // The domain: plain Swift, no I/O (risk rules, profile and strategy validation).
        .target(name: "Domain", path: "Shared/Domain", swiftSettings: swiftSettings),
        .target(name: "Accounts", dependencies: ["Core", "Crypto", "Database", "Domain"], path: "Shared/Accounts", swiftSettings: swiftSettings),
        .target(name: "Vault", dependencies: ["Core", "Crypto", "Database"], path: "Shared/Vault", swiftSettings: swiftSettings),
        .target(name: "Engine", dependencies: ["Core", "Database", "Domain", "Exchange", "Vault", "Accounts", "HTTPClient"],
                path: "Shared/Engine", swiftSettings: swiftSettings),
        // Scheduled work: reconciliation, retries and the dead-letter queue, the outbox, Telegram, the daily report.
        .target(name: "Operations", dependencies: ["Core", "Database", "Domain", "Exchange", "Vault", "Engine", "HTTPClient"],
                path: "Shared/Operations", swiftSettings: swiftSettings),
        .target(name: "Identity", dependencies: ["Core", "Crypto", "Database", "Domain", "Accounts", "Runtime"],
                path: "Shared/Identity", swiftSettings: swiftSettings),

        // Operator command line (`signalbridge migrate|status|…`).
        .executableTarget(
            name: "CLI",
            dependencies: ["Core", "Crypto", "Database", "Domain", "Accounts", "Vault", "Engine", "Operations", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Functions/CLI", swiftSettings: swiftSettings),

        // test targets
        .executableTarget(name: "Probe", dependencies: ["Runtime", "Database"], path: "Tests/Probe", swiftSettings: swiftSettings),
        .executableTarget(
            name: "ExchangeSimulator", dependencies: ["Core", "Crypto", "Runtime", "Exchange"],
            path: "Tests/ExchangeSimulator", swiftSettings: swiftSettings),
        .testTarget(
            name: "UnitTests", dependencies: ["Core", "Crypto", "Runtime", "Database", "Exchange", "Domain", "Identity", "Vault", "Operations"],
            path: "Tests/UnitTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests", dependencies: ["Core", "Crypto", "Database", "HTTPClient", "Exchange", "Domain", "Accounts", "Vault"],
            path: "Tests/IntegrationTests", swiftSettings: swiftSettings),
    ] + functions.map {
        .executableTarget(name: $0.name, dependencies: $0.dependencies, path: "Functions/\($0.name)", swiftSettings: swiftSettings)
    }
)
