import Core
import Foundation
import Runtime

/// A request's parameters as the exchange sees them: query string and body merged (the query wins), plus the
/// exact bytes the signature covers — the raw query and raw body with the `signature` pair taken out,
/// concatenated without a separator. Nothing is decoded and re-encoded before verification.
struct SimParams {
    var values: [String: String] = [:]
    var signature: String?
    var signedPayload = ""

    init(_ req: Request) {
        let rawBody = String(decoding: req.body, as: UTF8.self)
        var bodyValues: [String: String] = [:]
        var bodyForSigning = rawBody
        let contentType = req.header("content-type")?.lowercased() ?? ""
        if rawBody.hasPrefix("{") || contentType.hasPrefix("application/json") && !rawBody.isEmpty && !rawBody.contains("=") {
            // MEXC accepts JSON bodies: their fields are parameters; the raw JSON text is what was signed.
            if let data = rawBody.data(using: .utf8), let object = try? JSONDecoder().decode(JSONValue.self, from: data).object {
                for (k, v) in object { if let t = v.text { bodyValues[k] = t } }
            }
            if let sig = bodyValues.removeValue(forKey: "signature") { signature = sig }
        } else if !rawBody.isEmpty {
            let (kept, sig) = SimParams.strip(rawBody)
            bodyForSigning = kept
            if let sig { signature = sig }
            for (k, v) in parseQueryString(rawBody) where k != "signature" { bodyValues[k] = v }
        }
        let (queryKept, querySig) = SimParams.strip(req.rawQuery)
        if let querySig { signature = querySig }
        values = bodyValues
        for (k, v) in req.queryItems where k != "signature" { values[k] = v }
        signedPayload = queryKept + bodyForSigning
    }

    /// Removes `signature=…` from a raw `a=1&b=2` string, keeping every other byte.
    static func strip(_ raw: String) -> (String, String?) {
        guard raw.contains("signature=") else { return (raw, nil) }
        var signature: String?
        let kept = raw.split(separator: "&", omittingEmptySubsequences: false).filter { part in
            if part.hasPrefix("signature=") {
                signature = String(part.dropFirst("signature=".count))
                return false
            }
            return true
        }
        return (kept.joined(separator: "&"), signature)
    }

    subscript(_ name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }
}

/// An exchange-format error: HTTP status plus the JSON `{code, msg}` body.
struct SimError: Error {
    let status: Int
    let code: Int
    let message: String
    var headers: [(name: String, value: String)] = []

    func response() -> Response {
        var r = Response.json(["code": .int(code), "msg": .string(message)], status: status)
        r.headers += headers
        return r
    }
}
