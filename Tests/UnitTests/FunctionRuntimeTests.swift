import Core
import Foundation
import Testing
@testable import Runtime

/// The runtime's request processing, driven in-process with CGI parameters (the FastCGI loop around it is
/// covered by the integration tests through nginx).
@Suite struct FunctionRuntimeTests {
    struct Boom: Error {}
    struct Convertible: APIErrorConvertible { var apiError: APIError { .databaseUnavailable() } }

    let sink = LogSink.capturing()

    func runtime(maxBody: Int = 16) -> FunctionRuntime {
        var router = Router()
        router.post("/echo") { req in .text(String(decoding: req.body, as: UTF8.self)) }
        router.get("/boom") { _ in throw Boom() }
        router.get("/db") { _ in throw Convertible() }
        router.get("/headers") { req in .text("\(req.header("x-custom") ?? "-")|\(req.header("content-type") ?? "-")|\(req.query("q") ?? "-")") }
        return FunctionRuntime(name: "T", router: router, logger: Logger(label: "T", level: .debug, sink: sink), maxBodyBytes: maxBody)
    }

    func run(_ params: [String: String], body: [UInt8] = []) -> (Response, String) {
        runtime().process(params: params) { n in n <= body.count ? Array(body.prefix(n)) : nil }
    }

    @Test func bodyIsReadToContentLength() {
        let (response, _) = run(["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/echo", "CONTENT_LENGTH": "5"], body: Array("hello world".utf8))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello")
    }

    @Test func bodyOverTheCapIs413WithoutReading() {
        var read = false
        let (response, _) = runtime().process(params: ["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/echo", "CONTENT_LENGTH": "17"]) { _ in
            read = true
            return nil
        }
        #expect(response.status == 413)
        #expect(!read)
        #expect(String(decoding: response.body, as: UTF8.self).contains(#""code":"REQ_4013""#))
    }

    @Test func badOrShortContentLengthIs400() {
        #expect(run(["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/echo", "CONTENT_LENGTH": "-1"]).0.status == 400)
        #expect(run(["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/echo", "CONTENT_LENGTH": "x"]).0.status == 400)
        #expect(run(["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/echo", "CONTENT_LENGTH": "10"], body: [1, 2]).0.status == 400)
    }

    @Test func thrownErrorIs500AndLogged() {
        let (response, requestID) = run(["REQUEST_METHOD": "GET", "DOCUMENT_URI": "/boom"])
        #expect(response.status == 500)
        #expect(String(decoding: response.body, as: UTF8.self).contains(#""code":"SYS_5001""#))
        let errorLine = sink.lines.first { $0.contains(#""msg":"unhandled error""#) }
        #expect(errorLine?.contains(#""request_id":"\#(requestID)""#) == true)
        #expect(errorLine?.contains("Boom") == true)
    }

    @Test func convertibleErrorsUseTheirOwnContract() {
        let (response, _) = run(["REQUEST_METHOD": "GET", "DOCUMENT_URI": "/db"])
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "2")
    }

    @Test func requestIDIsKeptWhenSaneAndReplacedOtherwise() {
        #expect(run(["DOCUMENT_URI": "/nope", "HTTP_X_REQUEST_ID": "abc-123.x:y_z"]).1 == "abc-123.x:y_z")
        let replaced = run(["DOCUMENT_URI": "/nope", "HTTP_X_REQUEST_ID": "bad id\n"]).1
        #expect(replaced.count == 32 && replaced.allSatisfy(\.isHexDigit))
        #expect(run(["DOCUMENT_URI": "/nope", "HTTP_X_REQUEST_ID": String(repeating: "a", count: 129)]).1.count == 32)
    }

    @Test func headersQueryAndPathComeFromCGIParameters() {
        let (response, _) = run([
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/headers?q=a%20b&z=1", "QUERY_STRING": "q=a%20b&z=1",
            "HTTP_X_CUSTOM": "yes", "CONTENT_TYPE": "application/json",
        ])
        #expect(String(decoding: response.body, as: UTF8.self) == "yes|application/json|a b")
    }

    @Test func everyRequestIsLoggedAsJSONWithItsID() throws {
        let (_, requestID) = run(["REQUEST_METHOD": "GET", "DOCUMENT_URI": "/missing"])
        let line = try #require(sink.lines.last)
        let object = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        guard case .object(let fields) = object else { Issue.record("not an object"); return }
        #expect(fields["request_id"] == .string(requestID))
        #expect(fields["status"] == 404)
        #expect(fields["msg"] == "request")
    }

    @Test func percentDecodingEdges() {
        #expect(parseQueryString("check=%E2%9C%93&bad=%zz%4&upper=%2f%2F").map(\.value) == ["✓", "%zz%4", "//"])
        #expect(parseQueryString("a%3Db=c%26d").map(\.name) == ["a=b"])
        #expect(parseQueryString("a%3Db=c%26d").map(\.value) == ["c&d"])
        #expect(FunctionRuntime.headers(from: ["HTTP_X_MBX_APIKEY": "k", "CONTENT_TYPE": "application/json", "OTHER": "x"])
                == ["x-mbx-apikey": "k", "content-type": "application/json"])
    }

    @Test func queryStringParsing() {
        let items = parseQueryString("a=1&b=two+words&c=%2F&d&&e=")
        #expect(items.map(\.name) == ["a", "b", "c", "d", "e"])
        #expect(items.map(\.value) == ["1", "two words", "/", "", ""])
    }
}

@Suite struct FieldReaderTests {
    func reader(_ json: String) throws -> FieldReader {
        try FieldReader(Request(method: "POST", path: "/", headers: ["content-type": "application/json"], body: Array(json.utf8), requestID: "r"),
                        allowed: ["name", "n", "d"])
    }

    @Test func lengthsCountCodePointsLikePostgres() throws {
        var r = try reader(#"{"name":"t\u033a\u033at\u033a\u033a"}"#)  // 2 Characters, 6 scalars
        #expect(r.string("name", maxLength: 5) == nil)
        #expect(r.problems.map(\.field) == ["name"])
        var ok = try reader(#"{"name":"t\u033a\u033at\u033a\u033a"}"#)
        #expect(ok.string("name", maxLength: 6) != nil)
    }

    @Test func unknownFieldsTypesAndScales() throws {
        var r = try reader(#"{"n": 1.5, "d": 0.123, "zzz": 1}"#)
        #expect(r.int("n", range: 0...10) == nil)
        #expect(r.decimal("d", range: 0...1, places: 2) == nil)
        #expect(Set(r.problems.map(\.field)) == ["zzz", "n", "d"])
        #expect(throws: APIError.self) { try r.finish() }
    }
}
