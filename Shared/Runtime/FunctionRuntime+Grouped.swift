import CFastCGI
import Core
import Foundation

/// Grouped serving (a router with `group(upTo:_:)`): the process accepts every connection waiting on the shared
/// socket (up to the limit) without blocking, reads each request, shows them all to the group handler, routes
/// the ones it left, sends every response, and starts their after-response work on threads of its own
/// (`BackgroundWork`) while it goes on serving.
///
/// Under load a process finds several requests waiting whenever it comes back from the database, so work that
/// costs per statement (a round trip, a commit) is shared; at rest every group is a single request and goes
/// through the routes exactly as in the one-at-a-time loop. The listening socket is non-blocking and watched
/// with EPOLLEXCLUSIVE, so a connection wakes one process; the connections nginx keeps open to the process are
/// watched with it (`KeptConnections`), and their next requests join the group. SIGTERM/SIGUSR1 are blocked and
/// read from a signalfd between groups: the group in hand completes, so do the requests still waiting on the
/// socket and on kept connections, and every after-response task; the kept connections are closed; exit 0.
extension FunctionRuntime {
    func serveGrouped(listenFD: Int32, limit: Int, handler: Router.GroupHandler) -> Int32 {
        let signals = sbfcgi_shutdown_signal_fd()
        guard signals >= 0 else {
            logger.error("cannot watch the shutdown signals", ["errno": .int(Int(errno))])
            return 1
        }
        let watch = sbfcgi_watch(listenFD, signals)
        guard watch >= 0 else {
            logger.error("cannot watch the listening socket", ["errno": .int(Int(errno))])
            return 1
        }
        // Heap-allocated: libfcgi keeps pointers into each request between calls.
        let slots = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: limit)
        slots.initialize(repeating: FCGX_Request(), count: limit)
        defer { slots.deallocate() }
        for i in 0..<limit where FCGX_InitRequest(slots + i, listenFD, 0) != 0 {
            logger.error("FCGX_InitRequest failed")
            return 1
        }
        let background = BackgroundWork(width: FunctionRuntime.afterResponseWidth)
        let tcp = sbfcgi_is_tcp(listenFD)
        var kept = KeptConnections(watch: watch)
        var ready = [Int32](repeating: -1, count: limit)
        logger.info("serving FastCGI, taking waiting requests together", ["listen_fd": .int(Int(listenFD)), "group_limit": .int(limit)])
        while true {
            var flags: Int32 = 0
            let count = ready.withUnsafeMutableBufferPointer { sbfcgi_wait_ready(watch, -1, $0.baseAddress, Int32(limit), &flags) }
            if count < 0 {
                logger.error("waiting for connections failed", ["errno": .int(Int(errno))])
                background.finish()
                return 1
            }
            if flags & 2 != 0 {
                // What already waits — on the socket or on a kept connection — is still served (nothing is left to a
                // reset), the kept connections are closed (nginx sends what comes next on a new connection), then exit.
                while true {
                    var taken = kept.takeRequests(kept.idle, into: slots, limit: limit)
                    taken += takeWaiting(into: slots + taken.count, limit: limit - taken.count, listenFD: listenFD, tcp: tcp)
                    if taken.isEmpty { break }
                    serve(taken, handler: handler, background: background, kept: &kept, keepOpen: false)
                }
                kept.closeAll()
                background.finish()
                logger.info("shutting down")
                return 0
            }
            var taken = kept.takeRequests(Array(ready.prefix(Int(count))), into: slots, limit: limit)
            if flags & 1 != 0 {
                taken += takeWaiting(into: slots + taken.count, limit: limit - taken.count, listenFD: listenFD, tcp: tcp)
            }
            if !taken.isEmpty { serve(taken, handler: handler, background: background, kept: &kept, keepOpen: true) }
        }
    }

    /// Accepts the waiting connections (none waiting any more, or `limit` reached) and reads their requests:
    /// the slots that hold one. A connection that does not carry a request is dropped by libfcgi.
    private func takeWaiting(into slots: UnsafeMutablePointer<FCGX_Request>, limit: Int, listenFD: Int32, tcp: Int32) -> [UnsafeMutablePointer<FCGX_Request>] {
        var taken: [UnsafeMutablePointer<FCGX_Request>] = []
        while taken.count < limit {
            let fd = sbfcgi_accept(listenFD, tcp)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK {
                    logger.warning("accept failed", ["errno": .int(Int(errno))])
                }
                break
            }
            let slot = slots + taken.count
            sbfcgi_adopt(slot, fd)
            if FCGX_Accept_r(slot) == 0 { taken.append(slot) }
        }
        return taken
    }

    /// Serves a group; each connection nginx asked to keep (and `keepOpen`) stays open, watched for its next
    /// request, the others are closed.
    private func serve(_ slots: [UnsafeMutablePointer<FCGX_Request>], handler: Router.GroupHandler, background: BackgroundWork,
                       kept: inout KeptConnections, keepOpen: Bool) {
        let received = slots.map { slot in
            let stream = slot.pointee.in
            return receive(params: FunctionRuntime.parameters(of: slot.pointee.envp)) { count in FunctionRuntime.read(count, from: stream) }
        }
        var outcomes = [Result<Response, any Error>?](repeating: nil, count: slots.count)
        let readable = received.indices.compactMap { i -> (Int, Request)? in
            guard case .success(let request) = received[i].request else { return nil }
            return (i, request)
        }
        if readable.count >= 2 {
            let served = handler(readable.map(\.1))
            precondition(served.count == readable.count, "a group handler answers every request it is given")
            for ((i, _), outcome) in zip(readable, served) { outcomes[i] = outcome }
        }
        var responses: [Response] = []
        var open: [Int32] = []
        responses.reserveCapacity(slots.count)
        for (i, slot) in slots.enumerated() {
            let outcome: Result<Response, any Error>
            if let served = outcomes[i] {
                outcome = served
            } else {
                switch received[i].request {
                case .success(let request): outcome = Result { try router.handle(request) }
                case .failure(let error): outcome = .failure(error)
                }
            }
            let response = respond(to: received[i], with: outcome)
            write(response, requestID: received[i].requestID, on: slot)
            // libfcgi sets keepConnection from the begin record's FCGI_KEEP_CONN flag (nginx: fastcgi_keep_conn).
            let keep = keepOpen && slot.pointee.keepConnection != 0
            if keep { sbfcgi_drain_input(slot) }
            let fd = sbfcgi_finish_open(slot)
            if fd >= 0 {
                if !keep || !kept.keep(fd) { open.append(fd) }
            }
            responses.append(response)
        }
        // Every response is out; now the connections (closed together so no response waits for another's close).
        for fd in open { sbfcgi_close(fd) }
        for (response, item) in zip(responses, received) where response.afterResponse != nil {
            background.start { [self] in runAfterResponse(response, requestID: item.requestID) }
        }
    }

    /// How many after-response tasks run at once (each may start `ENGINE_WORKERS` connections); the accept loop
    /// waits for a free slot before it starts another, so a burst cannot start more.
    static let afterResponseWidth = 4
}

/// After-response work off the accept loop: each task on a thread of its own, at most `width` at once, all of
/// them finished before the process exits. The loop serves the next group meanwhile, so a signal that places
/// orders for seconds does not hold up the signals behind it, and a group's signals place theirs side by side.
final class BackgroundWork: @unchecked Sendable {
    private let slots: DispatchSemaphore
    private let running = DispatchGroup()

    init(width: Int) { slots = DispatchSemaphore(value: width) }

    func start(_ task: @escaping () -> Void) {
        slots.wait()
        running.enter()
        let work = UncheckedTask(run: task)
        let thread = Thread { [self] in
            work.run()
            slots.signal()
            running.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits until every task started has ended.
    func finish() { running.wait() }
}

/// Work handed to another thread, whose captures are used there alone (a response's after-response closure:
/// the loop keeps nothing of it).
private struct UncheckedTask: @unchecked Sendable {
    let run: () -> Void
}

/// The connections nginx keeps open to this process (`fastcgi_keep_conn on` with an upstream `keepalive`): each
/// is watched for its next request, which joins the next group like a new connection's. A connection costs nginx
/// and the process a connect, an accept and two closes; kept, the webhook served ~10 % more signals a second
/// (docs/benchmarks.md). nginx closes a kept connection when it is done with it; the process closes its own only
/// when it stops (nginx then sends what comes next on a new connection: `fastcgi_next_upstream`, routes.conf).
struct KeptConnections {
    let watch: Int32
    /// Open and between requests (none of them in the group being served).
    private(set) var idle: [Int32] = []

    init(watch: Int32) { self.watch = watch }

    /// Reads the next request of each readable kept connection into the slots (at most `limit`); a connection
    /// nginx has closed is closed here too. Returns the slots that hold a request.
    mutating func takeRequests(_ readable: [Int32], into slots: UnsafeMutablePointer<FCGX_Request>, limit: Int) -> [UnsafeMutablePointer<FCGX_Request>] {
        var taken: [UnsafeMutablePointer<FCGX_Request>] = []
        for fd in readable where taken.count < limit {
            switch sbfcgi_kept_state(fd) {
            case 1:
                idle.removeAll { $0 == fd }
                let slot = slots + taken.count
                sbfcgi_adopt(slot, fd)
                // On a malformed request libfcgi closes the connection itself (and may accept a new one).
                if FCGX_Accept_r(slot) == 0 { taken.append(slot) }
            case 0:
                idle.removeAll { $0 == fd }
                close(fd)
            default:
                continue
            }
        }
        return taken
    }

    /// Keeps a served connection open and watched; false when it cannot be watched (the caller closes it).
    mutating func keep(_ fd: Int32) -> Bool {
        guard sbfcgi_watch_kept(watch, fd) == 0 || errno == EEXIST else { return false }
        idle.append(fd)
        return true
    }

    /// Closes every kept connection between requests (on the way out).
    mutating func closeAll() {
        for fd in idle { close(fd) }
        idle.removeAll()
    }
}
