import Core
import Foundation
import HTTPClient

/// Where Telegram messages go: the Bot API base URL (configurable so tests point it at a fake), the bot token
/// (a secret: it is part of every request path, so URLs are never logged), and the operator's chat.
public struct TelegramSettings: Sendable {
    public var apiBase: String
    public var token: Secret?
    public var operatorChatID: String?
    public var timeout: Double

    public init(apiBase: String = "https://api.telegram.org", token: Secret?, operatorChatID: String?, timeout: Double = 10) {
        self.apiBase = apiBase
        self.token = token
        self.operatorChatID = operatorChatID
        self.timeout = timeout
    }

    public static func fromConfig(_ config: Config) throws(ConfigError) -> TelegramSettings {
        let base = config.string("TELEGRAM_API_BASE", default: "https://api.telegram.org")
        guard base.hasPrefix("https://") || base.hasPrefix("http://127.0.0.1") || base.hasPrefix("http://localhost") else {
            throw ConfigError(variable: "TELEGRAM_API_BASE", reason: "must be https (plain http only on loopback)")
        }
        let chat = config.value("TELEGRAM_OPERATOR_CHAT_ID").flatMap { $0.isEmpty ? nil : $0 }
        return TelegramSettings(apiBase: base.hasSuffix("/") ? String(base.dropLast()) : base, token: try config.secret("TELEGRAM_BOT_TOKEN"),
                                operatorChatID: chat, timeout: try config.double("TELEGRAM_TIMEOUT_SECONDS", default: 10, range: 0.5...60))
    }

    /// Whether messages can be sent at all (a token is configured).
    public var isConfigured: Bool { token != nil }
}

/// Why a Telegram call produced no usable answer (never contains the token).
public struct TelegramFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// What became of one message.
public enum TelegramOutcome: Equatable, Sendable {
    case sent(messageID: Int64)
    /// Telegram asked us to wait (429 with `retry_after`).
    case retryAfter(seconds: Int)
    /// Refused for good (400 chat not found, 403 blocked by the user, 401 bad token): retrying will not help.
    case refused(String)
    /// A transient failure (network, 5xx, unreadable reply): try again later.
    case failed(String)
}

/// The Telegram Bot API over libcurl: `sendMessage` and `getMe`. Not thread-safe (one HTTP handle).
public final class TelegramClient {
    public let settings: TelegramSettings
    private let http = HTTPClient()

    public init(settings: TelegramSettings) { self.settings = settings }

    /// Texts longer than Telegram's limit (4096 UTF-16 code units, as Telegram counts) are cut with a marker
    /// rather than refused; never inside a character.
    public static let maxLength = 4096

    public static func fitted(_ text: String) -> String {
        guard text.utf16.count > maxLength else { return text }
        var out = "", used = 0
        for ch in text {
            let n = String(ch).utf16.count
            if used + n > maxLength - 2 { break }
            out.append(ch)
            used += n
        }
        return out + " …"
    }

    public func sendMessage(chatID: String, text: String) -> TelegramOutcome {
        let body = TelegramClient.fitted(text)
        let payload: JSONValue = ["chat_id": .string(chatID), "text": .string(body), "disable_web_page_preview": .bool(true)]
        let reply: HTTPResponse
        switch call("sendMessage", payload) {
        case .failure(let error): return .failed(error.message)
        case .success(let r): reply = r
        }
        let json = reply.json()
        if reply.status == 200, json?["ok"]?.bool == true, let id = json?["result"]?["message_id"]?.int {
            return .sent(messageID: Int64(id))
        }
        let description = json?["description"]?.string ?? "HTTP \(reply.status)"
        switch reply.status {
        case 429: return .retryAfter(seconds: json?["parameters"]?["retry_after"]?.int ?? 5)
        case 400, 401, 403, 404: return .refused(description)
        default: return .failed(description)
        }
    }

    /// Health probe: the token works and the API answers.
    public func probe() -> Result<Void, TelegramFailure> {
        switch call("getMe", [:]) {
        case .failure(let e): return .failure(e)
        case .success(let r):
            return r.status == 200 && r.json()?["ok"]?.bool == true ? .success(())
                : .failure(TelegramFailure(message: r.json()?["description"]?.string ?? "HTTP \(r.status)"))
        }
    }

    private func call(_ method: String, _ payload: JSONValue) -> Result<HTTPResponse, TelegramFailure> {
        guard let token = settings.token else { return .failure(TelegramFailure(message: "Telegram is not configured (TELEGRAM_BOT_TOKEN)")) }
        let request = HTTPRequest(method: "POST", url: "\(settings.apiBase)/bot\(token.reveal())/\(method)",
                                  headers: [("Content-Type", "application/json")], body: Array(payload.jsonText.utf8),
                                  timeout: settings.timeout)
        do {
            return .success(try http.send(request))
        } catch {
            // curl's messages name hosts, not paths; strip the token anyway in case a future message quotes the URL.
            return .failure(TelegramFailure(message: error.description.replacingOccurrences(of: token.reveal(), with: "REDACTED")))
        }
    }
}
