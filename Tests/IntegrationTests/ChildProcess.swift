import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn, a clean signal mask and default signal handlers.
///
/// Foundation's `Process` passes on the mask of the thread that launches it, and Swift Testing's threads
/// block nearly every signal: a server started that way (a function, PostgreSQL via pg_ctl) would never see
/// SIGTERM. Output goes to files, so a chatty child can never block on a full pipe.
final class ChildProcess {
    let pid: pid_t
    private let outPath: String
    private let errPath: String
    private let inPath: String
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, input: [UInt8] = []) throws {
        let base = NSTemporaryDirectory() + "sb-child-\(UUID().uuidString)"
        outPath = base + ".out"
        errPath = base + ".err"
        inPath = base + ".in"
        _ = FileManager.default.createFile(atPath: inPath, contents: Data(input))

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        guard rc == 0 else { throw TestFailure("posix_spawn \(executable) failed: \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        for path in [outPath, errPath, inPath] { unlink(path) }
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits up to `timeout` seconds; returns the exit status (128 + signal number when killed), or nil.
    func wait(timeout: TimeInterval) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let signalled = status & 0x7f
                exitStatus = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
                return exitStatus
            }
            if Date() >= deadline { return nil }
            usleep(20_000)
        }
    }

    /// True when the child has exited with a signal rather than a status.
    var exitedNormally: Bool { (exitStatus ?? 0) < 128 }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
}
