/// A secret value (API key, password, token). Printing, interpolating or dumping it yields `REDACTED`;
/// only `reveal()` hands out the plaintext, so every use of a secret is greppable.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The plaintext. Call it only where the secret leaves the process for its intended recipient.
    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "REDACTED" }
    public var debugDescription: String { "REDACTED" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
