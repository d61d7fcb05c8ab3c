import Core
import Database
import Foundation
import Runtime

// A test-only function that exercises the runtime through nginx: echo, a throwing handler, path parameters,
// and body limits. It is started by the local stack (Tests/Stack) and never deployed.
struct ProbeFailure: Error {}

exit(FunctionRuntime.main(name: "Probe") { logger, config in
    var router = Router()
    router.get("/_probe/throw") { _ in throw ProbeFailure() }
    router.get("/_probe/fail/{code}") { req in
        let code = ErrorCode(rawValue: req.parameter("code") ?? "") ?? .internalError
        throw APIError(code, "probe failure \(code.rawValue)")
    }
    router.post("/_probe/json") { req in
        struct Payload: Codable { let name: String; let count: Int; let tags: [String]? }
        let payload = try req.decodeJSON(Payload.self)
        return try .json(payload)
    }
    let echo: Router.Handler = { req in
        .json([
            "method": .string(req.method),
            "path": .string(req.path),
            "request_id": .string(req.requestID),
            "query": .object(Dictionary(req.queryItems.map { ($0.name, JSONValue.string($0.value)) }, uniquingKeysWith: { a, _ in a })),
            "parameters": .object(req.pathParameters.mapValues { .string($0) }),
            "body_bytes": .int(req.body.count),
            "pid": .int(Int(getpid())),
        ])
    }
    router.get("/_probe/echo") { try echo($0) }
    router.post("/_probe/echo") { try echo($0) }
    router.get("/_probe/items/{id}") { try echo($0) }
    router.get("/_probe/items/special") { try echo($0) }
    return router
})
