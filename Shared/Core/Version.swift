/// The release of this build, reported by `/v1/health` and `signalbridge --version`.
public enum SignalBridgeVersion {
    public static let current = "0.1.0"
}
