import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Severity of a log line; lines below the configured level (`LOG_LEVEL`) are dropped.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug = 0, info, warning, error

    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error": self = .error
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Writes one JSON object per line to stderr: `{"ts","level","logger","msg",…metadata,…fields}`.
/// A logger is a value: `with(_:)` returns a copy carrying more metadata (request id, signal id).
/// Lines are written with a single `write(2)` so concurrent processes appending to one file do not interleave.
public struct Logger: Sendable {
    public let label: String
    public let level: LogLevel
    public private(set) var metadata: [String: JSONValue]
    private let sink: LogSink

    public init(label: String, level: LogLevel = .info, metadata: [String: JSONValue] = [:], sink: LogSink = .stderr) {
        self.label = label
        self.level = level
        self.metadata = metadata
        self.sink = sink
    }

    /// A logger configured from `LOG_LEVEL` (default info).
    public static func fromConfig(_ config: Config, label: String) -> Logger {
        let level = config.value("LOG_LEVEL").flatMap(LogLevel.init(name:)) ?? .info
        return Logger(label: label, level: level)
    }

    public func with(_ extra: [String: JSONValue]) -> Logger {
        var copy = self
        copy.metadata.merge(extra) { _, new in new }
        return copy
    }

    // The fields are built only for a line that is written (a request's info lines cost the webhook ~2 % of the
    // box under load with LOG_LEVEL=warning when their dictionaries were built regardless).
    public func debug(_ message: String, _ fields: @autoclosure () -> [String: JSONValue] = [:]) { logIfEnabled(.debug, message, fields) }
    public func info(_ message: String, _ fields: @autoclosure () -> [String: JSONValue] = [:]) { logIfEnabled(.info, message, fields) }
    public func warning(_ message: String, _ fields: @autoclosure () -> [String: JSONValue] = [:]) { logIfEnabled(.warning, message, fields) }
    public func error(_ message: String, _ fields: @autoclosure () -> [String: JSONValue] = [:]) { logIfEnabled(.error, message, fields) }

    private func logIfEnabled(_ lineLevel: LogLevel, _ message: String, _ fields: () -> [String: JSONValue]) {
        guard lineLevel >= level else { return }
        log(lineLevel, message, fields())
    }

    public func log(_ lineLevel: LogLevel, _ message: String, _ fields: [String: JSONValue]) {
        guard lineLevel >= level else { return }
        sink.write(Logger.line(level: lineLevel, label: label, message: message, metadata: metadata, fields: fields))
    }

    /// The text of one log line (without the newline); fields override metadata of the same name.
    public static func line(level: LogLevel, label: String, message: String, metadata: [String: JSONValue],
                            fields: [String: JSONValue], now: Date = Date()) -> String {
        var object = metadata.merging(fields) { _, new in new }
        object["ts"] = .string(Timestamp.iso8601(now))
        object["level"] = .string(level.name)
        object["logger"] = .string(label)
        object["msg"] = .string(message)
        return JSONValue.object(object).jsonText
    }
}

/// Where log lines go: stderr (the default) or an in-memory buffer for tests.
public final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var captured: [String]?

    private init(capturing: Bool) { captured = capturing ? [] : nil }

    public static let stderr = LogSink(capturing: false)
    public static func capturing() -> LogSink { LogSink(capturing: true) }

    public var lines: [String] { lock.withLock { captured ?? [] } }

    func write(_ line: String) {
        if captured != nil {
            lock.withLock { captured?.append(line) }
            return
        }
        var bytes = Array(line.utf8)
        bytes.append(10)
        bytes.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(2, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }

    /// Sends this process's stderr to `path` (appending), for process managers such as spawn-fcgi that
    /// point stderr at /dev/null. Returns false when the file cannot be opened.
    public static func redirectStderr(toFile path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return dup2(fd, 2) >= 0
    }
}
