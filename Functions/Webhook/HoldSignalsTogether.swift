import Core
import Crypto
import Database
import Domain
import Foundation
import Runtime

/// HOLD signals that wait at the same moment are stored by one statement (`Queries.receiveHolds`): one round
/// trip and one commit for the group instead of one each — most of what a stored signal costs the database.
///
/// Only the plain case is grouped: a well-formed, unsigned HOLD whose signal_id is the first of its group. The
/// group's rows are authenticated, deduplicated and checked against the listed symbols exactly as `receiveHold`
/// does; a request the statement did not store (unknown or revoked key, a key that requires signatures, a
/// known signal_id, an unlisted symbol), every other request, and the whole group if the statement fails, go
/// through `receive` alone, which finds out why and answers as it always does. Every acknowledgment is sent
/// after the group's commit.
extension SignalWebhook {
    func receiveTogether(_ requests: [Request], routes: Router) -> [Result<Response, any Error>?] {
        var outcomes = [Result<Response, any Error>?](repeating: nil, count: requests.count)
        var group: [(index: Int, signal: TradingSignal, keyHash: [UInt8], payloadHash: [UInt8])] = []
        var ids = Set<String>()
        for (i, req) in requests.enumerated() {
            guard case .found = routes.match(method: req.method, path: req.path),
                  req.header("x-signalbridge-signature") == nil,
                  let key = req.header("x-api-key"), !key.isEmpty, key.utf8.count <= 200,
                  let signal = try? validate(req), signal.action == .hold,
                  ids.insert(signal.signalID).inserted else { continue }
            group.append((i, signal, SHA256.hash(key), SHA256.hash(req.body)))
        }
        guard group.count >= 2 else { return outcomes }
        let rows: [Row]
        do {
            rows = try db.query(Queries.receiveHolds, [SignalWebhook.groupDocument(group.map { ($0.signal, $0.keyHash, $0.payloadHash) })])
        } catch {
            logger.warning("HOLD group not stored together; each signal is received alone",
                           ["signals": .int(group.count), "error": .string(error.description)])
            return outcomes
        }
        logger.info("HOLD signals received together", ["signals": .int(group.count), "stored": .int(rows.count),
                                                        "signal_ids": .array(group.map { .string($0.signal.signalID) })])
        let waiting = Dictionary(uniqueKeysWithValues: group.map { ($0.signal.signalID, $0) })
        var keysDue = Set<[UInt8]>()
        for row in rows {
            guard let signalID = try? row.string("signal_id"), let member = waiting[signalID] else { continue }
            outcomes[member.index] = Result {
                if try row.bool("touch_due") { keysDue.insert(member.keyHash) }
                return acknowledge(member.signal, receivedAt: try row.date("received_at"), executions: 0, skipped: 0, halted: false,
                                   requestID: requests[member.index].requestID)
            }
        }
        for keyHash in keysDue { touchKey(ByteaParameter(keyHash), requestID: requests[group[0].index].requestID) }
        return outcomes
    }

    /// The group as one JSON array for `jsonb_to_recordset` (hashes in hex; the features snapshot is already JSON).
    static func groupDocument(_ members: [(signal: TradingSignal, keyHash: [UInt8], payloadHash: [UInt8])]) -> String {
        var text = "["
        text.reserveCapacity(members.count * 400)
        for (n, member) in members.enumerated() {
            let s = member.signal
            func field(_ name: String, _ value: String) {
                text += text.utf8.last == UInt8(ascii: "{") ? "\"" : ",\""
                text += name
                text += "\":"
                JSONValue.appendQuoted(value, to: &text)
            }
            text += n == 0 ? "{" : ",{"
            field("signal_id", s.signalID)
            field("timestamp", s.timestampText)
            field("symbol", s.symbol)
            field("confidence", "\(s.confidence)")
            field("model_version", s.modelVersion)
            field("source", s.source)
            field("key_hash", Hex.encode(member.keyHash))
            field("payload_hash", Hex.encode(member.payloadHash))
            text += ",\"action\":\(s.action.rawValue),\"features_snapshot\":"
            text += s.featuresJSON ?? "null"
            text += "}"
        }
        return text + "]"
    }
}
