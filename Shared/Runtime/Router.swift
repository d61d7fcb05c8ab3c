import Core

/// Maps `METHOD /path/{param}` to handlers. Literal segments win over `{param}` segments, left to right,
/// so `/v1/executions/export` is matched before `/v1/executions/{id}`.
public struct Router {
    public typealias Handler = (Request) throws -> Response

    /// The outcome of looking a request up.
    public enum Match {
        case found(Handler, parameters: [String: String])
        case notFound
        case methodNotAllowed(allowed: [String])
    }

    private struct Route {
        let method: String
        let segments: [Segment]
        let handler: Handler
    }

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private var routes: [Route] = []
    private var fallback: Handler?

    /// Serves several requests at once: an outcome for each request it served (in order), nil for each it left to
    /// the routes, which then serve it alone. Never given a single request.
    public typealias GroupHandler = ([Request]) -> [Result<Response, any Error>?]

    /// The process takes every request waiting on its socket (up to `limit`) together and shows them to `handler`
    /// first (`group(upTo:_:)`); nil: one request at a time.
    public private(set) var group: (limit: Int, handler: GroupHandler)?

    /// Lets `handler` serve the requests that wait at the same moment together (e.g. with one database statement
    /// for all of them). Responses are sent once the whole group is served; each one's after-response work then
    /// starts on a thread of its own while the process goes on serving.
    public mutating func group(upTo limit: Int, _ handler: @escaping GroupHandler) {
        precondition(limit >= 2, "a group is at least two requests")
        group = (limit, handler)
    }

    public init() {}

    /// A router that sends every request to one handler (for servers with their own dispatch, like the simulator).
    public static func catchAll(_ handler: @escaping Handler) -> Router {
        var r = Router()
        r.fallback = handler
        return r
    }

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        let segments = Router.split(pattern).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        precondition(!routes.contains { $0.method == method.uppercased() && $0.segments == segments },
                     "duplicate route \(method) \(pattern)")
        routes.append(Route(method: method.uppercased(), segments: segments, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add("POST", pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { add("PUT", pattern, handler) }
    public mutating func patch(_ pattern: String, _ handler: @escaping Handler) { add("PATCH", pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { add("DELETE", pattern, handler) }

    public func match(method: String, path: String) -> Match {
        let parts = Router.split(path)
        var best: (route: Route, params: [String: String], score: [Bool])?
        var allowed: Set<String> = []
        for route in routes where route.segments.count == parts.count {
            var params: [String: String] = [:]
            var score: [Bool] = []
            var ok = true
            for (segment, part) in zip(route.segments, parts) {
                switch segment {
                case .literal(let text):
                    if text != part { ok = false }
                    score.append(true)
                case .parameter(let name):
                    params[name] = String(part)
                    score.append(false)
                }
                if !ok { break }
            }
            guard ok else { continue }
            guard route.method == method.uppercased() else {
                allowed.insert(route.method)
                continue
            }
            if best == nil || Router.isMoreSpecific(score, than: best!.score) {
                best = (route, params, score)
            }
        }
        if let best { return .found(best.route.handler, parameters: best.params) }
        if !allowed.isEmpty { return .methodNotAllowed(allowed: allowed.sorted()) }
        return .notFound
    }

    /// Routes a request: 404 or 405 (with `Allow`) as `APIError`s, otherwise the handler's response.
    public func handle(_ request: Request) throws -> Response {
        if let fallback { return try fallback(request) }
        switch match(method: request.method, path: request.path) {
        case .notFound:
            throw APIError.notFound()
        case .methodNotAllowed(let allowed):
            throw APIError.methodNotAllowed(allowed: allowed)
        case .found(let handler, let parameters):
            var routed = request
            routed.pathParameters = parameters
            return try handler(routed)
        }
    }

    private static func isMoreSpecific(_ a: [Bool], than b: [Bool]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return x }
        return false
    }

    /// Path segments without empty ones, so `/v1/health/` and `/v1/health` are the same route.
    private static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
