/// The environment's half of the trading gate (the database kill switch is the other half): `TRADING_ENABLED`,
/// off unless it says true. Every process that could trade — the webhook, the engine, the CLI's report — reads
/// it here, so the default lives in one line and its test pins it.
public enum TradingEnvironment {
    public static let variable = "TRADING_ENABLED"

    /// Whether this environment allows trading; an unset or empty variable means no.
    public static func enabled(_ config: Config) throws(ConfigError) -> Bool {
        try config.bool(variable, default: false)
    }
}
