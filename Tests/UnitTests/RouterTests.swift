import Core
import Testing
@testable import Runtime

@Suite struct RouterTests {
    func router() -> Router {
        var r = Router()
        r.get("/v1/items") { _ in .text("list") }
        r.post("/v1/items") { _ in .text("create") }
        r.get("/v1/items/{id}") { req in .text("item \(req.parameter("id") ?? "?")") }
        r.get("/v1/items/export") { _ in .text("export") }
        r.delete("/v1/items/{id}") { _ in .noContent() }
        r.get("/v1/users/{user}/orders/{order}") { req in
            .text("\(req.parameter("user") ?? "")/\(req.parameter("order") ?? "")")
        }
        return r
    }

    func body(_ method: String, _ path: String) throws -> String {
        let response = try router().handle(Request(method: method, path: path, requestID: "t"))
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test func matchesLiteralRoutes() throws {
        #expect(try body("GET", "/v1/items") == "list")
        #expect(try body("POST", "/v1/items") == "create")
    }

    @Test func extractsParameters() throws {
        #expect(try body("GET", "/v1/items/42") == "item 42")
        #expect(try body("GET", "/v1/users/u1/orders/o9") == "u1/o9")
    }

    @Test func literalSegmentBeatsParameter() throws {
        #expect(try body("GET", "/v1/items/export") == "export")
    }

    @Test func trailingSlashIsTheSameRoute() throws {
        #expect(try body("GET", "/v1/items/") == "list")
    }

    @Test func methodIsCaseInsensitive() throws {
        #expect(try body("get", "/v1/items") == "list")
    }

    @Test func unknownPathIs404() {
        #expect(throws: APIError.notFound()) { try body("GET", "/v1/nothing") }
        #expect(throws: APIError.notFound()) { try body("GET", "/v1/items/1/2") }
    }

    @Test func wrongMethodIs405WithSortedAllow() {
        let error = #expect(throws: APIError.self) { try body("PUT", "/v1/items/7") }
        #expect(error?.status == 405)
        #expect(error?.code == .methodNotAllowed)
        #expect(error?.headers["Allow"] == "DELETE, GET")
    }

    @Test func parameterDoesNotMatchEmptySegment() {
        #expect(throws: APIError.self) { try body("GET", "/v1/users//orders/1") }
    }
}
