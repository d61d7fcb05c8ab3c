import Core
import Foundation
import Runtime

// The exchange simulator: Binance spot or MEXC spot v3 (SIM_DIALECT), served like any function through the
// FastCGI runtime behind nginx (ports 9101/9102 locally). Run ONE process per dialect: state is in memory.
exit(FunctionRuntime.main(name: "ExchangeSimulator") { logger, config in
    let dialect = Dialect(rawValue: try config.choice("SIM_DIALECT", default: "binance", allowed: ["binance", "mexc"]))!
    let server = SimServer(dialect: dialect, logger: logger.with(["dialect": .string(dialect.rawValue)]))
    return Router.catchAll { server.handle($0) }
})
