import Core
import Foundation
import Testing
@testable import Runtime

@Suite struct ErrorContractTests {
    func decode(_ text: String) throws -> [String: JSONValue] {
        guard case .object(let o) = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            throw APIError.internalError()
        }
        return o
    }

    @Test func bodyHasExactlyTheFourFields() throws {
        let error = APIError(.insufficientBalance, "Insufficient USDT balance on MEXC",
                             details: ["required": "100.00", "available": "45.50"])
        let body = try decode(error.body(requestID: "req-abc123"))
        #expect(Set(body.keys) == ["code", "message", "details", "request_id"])
        #expect(body["code"] == "EXCH_2005")
        #expect(body["message"] == "Insufficient USDT balance on MEXC")
        #expect(body["details"] == ["available": "45.50", "required": "100.00"])
        #expect(body["request_id"] == "req-abc123")
    }

    @Test func detailsAreNullWhenAbsent() throws {
        let body = try decode(APIError.notFound().body(requestID: "r"))
        #expect(body["details"] == .null)
    }

    @Test(arguments: [
        (ErrorCode.invalidToken, 401), (.expiredToken, 401), (.forbidden, 403), (.invalidCredentials, 400),
        (.rateLimited, 429), (.exchangeUnavailable, 503), (.insufficientBalance, 422), (.belowConfidence, 422),
        (.notFound, 404), (.methodNotAllowed, 405), (.payloadTooLarge, 413), (.validationFailed, 422),
        (.internalError, 500), (.databaseError, 503),
    ])
    func defaultStatus(code: ErrorCode, status: Int) {
        #expect(code.defaultStatus == status)
    }

    @Test func everyCodeHasAKnownFamilyAndIsUnique() {
        let raw = ErrorCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        for code in raw {
            #expect(["AUTH_", "EXCH_", "TRADE_", "REQ_", "SYS_"].contains { code.hasPrefix($0) }, "\(code)")
        }
    }

    @Test func responseCarriesHeadersAndStatus() {
        let response = Response.error(.methodNotAllowed(allowed: ["GET", "POST"]), requestID: "x")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET, POST")
        #expect(response.header("content-type") == "application/json")
        let db = Response.error(.databaseUnavailable(), requestID: "x")
        #expect(db.status == 503)
        #expect(db.header("Retry-After") == "2")
    }

    @Test func wireHeadHasStatusRequestIDAndNoHeaderInjection() {
        var response = Response.text("hi", status: 201)
        response.headers.append(("X-Evil", "a\r\nSet-Cookie: x=1"))
        let head = response.wireHead(requestID: "rid")
        #expect(head.hasPrefix("Status: 201 Created\r\n"))
        #expect(head.contains("X-Request-ID: rid\r\n"))
        #expect(head.contains("X-Evil: aSet-Cookie: x=1\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
    }

    struct Payload: Decodable { let name: String; let count: Int; let nested: Nested? }
    struct Nested: Decodable { let flags: [Bool] }

    func request(_ body: String, contentType: String? = "application/json") -> Request {
        Request(method: "POST", path: "/", headers: contentType.map { ["content-type": $0] } ?? [:],
                body: Array(body.utf8), requestID: "r")
    }

    @Test func malformedJSONIs400() {
        let broken = #expect(throws: APIError.self) { try request("{not json").decodeJSON(Payload.self) }
        #expect(broken?.status == 400 && broken?.code == .malformedRequest)
        let empty = #expect(throws: APIError.self) { try request("").decodeJSON(Payload.self) }
        #expect(empty?.status == 400)
    }

    @Test func missingFieldIs422NamingIt() {
        let error = #expect(throws: APIError.self) { try request(#"{"name":"a"}"#).decodeJSON(Payload.self) }
        #expect(error?.status == 422)
        #expect(error?.details == ["fields": [["field": "count", "error": "is required"]]])
    }

    @Test func wrongTypeIs422WithItsPath() {
        let error = #expect(throws: APIError.self) {
            try request(#"{"name":"a","count":1,"nested":{"flags":[true,"no"]}}"#).decodeJSON(Payload.self)
        }
        #expect(error?.status == 422)
        #expect(error?.details == ["fields": [["field": "nested.flags[1]", "error": "must be a boolean"]]])
    }

    @Test func wrongContentTypeIs415() {
        let error = #expect(throws: APIError.self) {
            try request(#"{"name":"a","count":1}"#, contentType: "text/plain").decodeJSON(Payload.self)
        }
        #expect(error?.status == 415 && error?.code == .unsupportedMediaType)
        #expect((try? request(#"{"name":"a","count":1}"#, contentType: "application/json; charset=utf-8").decodeJSON(Payload.self)) != nil)
    }
}
