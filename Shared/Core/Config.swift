import Foundation

/// A configuration value that is missing or malformed; the message names the variable, never its value.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let variable: String
    public let reason: String

    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    public var description: String { "configuration \(variable): \(reason)" }
}

/// Reads configuration from environment variables, once per process. Every variable is documented in
/// `docs/configuration.md`. Secrets may come from `NAME` or from a file named by `NAME_FILE` (not both).
public struct Config: Sendable {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The raw value, or nil when unset. An empty value counts as unset.
    public func value(_ name: String) -> String? {
        guard let v = environment[name], !v.isEmpty else { return nil }
        return v
    }

    public func string(_ name: String, default defaultValue: String) -> String {
        value(name) ?? defaultValue
    }

    public func require(_ name: String) throws(ConfigError) -> String {
        guard let v = value(name) else { throw ConfigError(variable: name, reason: "is required but not set") }
        return v
    }

    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        guard let raw = value(name) else { return defaultValue }
        guard let v = Int(raw.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(variable: name, reason: "must be an integer")
        }
        if let range, !range.contains(v) {
            throw ConfigError(variable: name, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return v
    }

    public func double(_ name: String, default defaultValue: Double, range: ClosedRange<Double>? = nil) throws(ConfigError) -> Double {
        guard let raw = value(name) else { return defaultValue }
        guard let v = Double(raw.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw ConfigError(variable: name, reason: "must be a number")
        }
        if let range, !range.contains(v) {
            throw ConfigError(variable: name, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return v
    }

    /// `true/false`, `1/0`, `yes/no`, `on/off` (any case).
    public func bool(_ name: String, default defaultValue: Bool) throws(ConfigError) -> Bool {
        guard let raw = value(name) else { return defaultValue }
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError(variable: name, reason: "must be true or false")
        }
    }

    /// One of a fixed set of words, compared case-insensitively.
    public func choice(_ name: String, default defaultValue: String, allowed: [String]) throws(ConfigError) -> String {
        guard let raw = value(name) else { return defaultValue }
        let v = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard allowed.contains(v) else {
            throw ConfigError(variable: name, reason: "must be one of \(allowed.joined(separator: ", "))")
        }
        return v
    }

    /// A secret from `NAME` or from the file at `NAME_FILE` (trailing newline stripped); nil when neither is set.
    public func secret(_ name: String) throws(ConfigError) -> Secret? {
        let direct = value(name)
        let path = value(name + "_FILE")
        switch (direct, path) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw ConfigError(variable: name, reason: "set either \(name) or \(name)_FILE, not both")
        case (.some(let v), nil):
            return Secret(v)
        case (nil, .some(let p)):
            guard let data = FileManager.default.contents(atPath: p), let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(variable: name + "_FILE", reason: "cannot read the file it names")
            }
            var v = Substring(text)
            while let last = v.last, last == "\n" || last == "\r" { v = v.dropLast() }
            guard !v.isEmpty else { throw ConfigError(variable: name + "_FILE", reason: "names an empty file") }
            return Secret(String(v))
        }
    }

    public func requireSecret(_ name: String) throws(ConfigError) -> Secret {
        guard let s = try secret(name) else {
            throw ConfigError(variable: name, reason: "is required but neither \(name) nor \(name)_FILE is set")
        }
        return s
    }
}
