import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A program started with `posix_spawn`, for the benchmarks and the end-to-end tests that run `ember` and tools.
///
/// Foundation's `Process` is not used: on Linux its `run()` copies all 256 bytes of each `/proc/self/fd` entry's
/// name, which reads past the end of the directory buffer and crashes the caller once it has more than about 1,360
/// descriptors open (the parallel test suite does). Here the child closes every inherited descriptor above standard
/// error itself (`posix_spawn_file_actions_addclosefrom_np`), and starts with an empty signal mask and default
/// handlers: the threads of Swift's concurrency pool block signals such as SIGALRM, which timed tools (`openssl
/// speed -seconds`) need.
public final class ChildProcess: Sendable {
    /// Where the child's standard output and standard error go; standard input is always `/dev/null`.
    public enum Output: Sendable {
        /// Discarded.
        case discarded
        /// Appended to the file at this path (created 0600 when missing).
        case file(String)
        /// Kept for `readOutput()`; standard error too when `mergingErrors`, else discarded.
        case captured(mergingErrors: Bool)
    }

    /// How the child ended.
    public enum Termination: Equatable, Sendable {
        /// Its exit code; -1 when the status was lost (another waiter reaped the child, or SIGCHLD is ignored).
        case exited(Int32)
        /// The number of the signal that ended it.
        case signaled(Int32)

        /// The exit code, or the number of the signal that ended it.
        public var status: Int32 {
            switch self {
            case .exited(let code), .signaled(let code): code
            }
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let pid: pid_t
    /// The read end of the captured output, or -1.
    private let output: Int32
    private let ended = Mutex<Termination?>(nil)

    /// Starts `program` (looked up in `PATH` when it has no slash) with `arguments`. `environment` replaces this
    /// process's environment.
    public init(_ program: String, _ arguments: [String], environment: [String: String]? = nil, output: Output = .discarded) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var fds: [Int32] = [-1, -1]
        switch output {
        case .discarded:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .captured(let mergingErrors):
            guard pipe(&fds) == 0 else { throw Failure(description: "cannot create a pipe: \(Self.reason(errno))") }
            for end in fds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            if mergingErrors {
                posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
            } else {
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            }
        }
        Self.closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let variables = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for variable in variables ?? [] { free(variable) } }
        var pid: pid_t = 0
        let spawned =
            variables.map { envp in posix_spawnp(&pid, program, &actions, &attributes, argv, envp) }
            ?? posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
        if fds[1] >= 0 { close(fds[1]) }
        guard spawned == 0 else {
            if fds[0] >= 0 { close(fds[0]) }
            throw Failure(description: "cannot start \(program): \(Self.reason(spawned))")
        }
        self.pid = pid
        self.output = fds[0]
    }

    /// Runs `program` to its end and returns how it ended with its standard output (and standard error when
    /// `mergingErrors`); nil when it could not be started.
    public static func run(
        _ program: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        mergingErrors: Bool = false
    ) -> (termination: Termination, output: String)? {
        guard let child = try? ChildProcess(program, arguments, environment: environment, output: .captured(mergingErrors: mergingErrors))
        else { return nil }
        let output = child.readOutput()
        return (child.waitUntilExit(), output)
    }

    /// How the child ended; nil while it runs.
    public var termination: Termination? { reap() }

    public var isRunning: Bool { termination == nil }

    /// Sends `signal` to the child (nothing once it has been reaped, so the number cannot reach a reused pid).
    public func send(_ signal: Int32) {
        ended.withLock { ended in
            if ended == nil { _ = kill(pid, signal) }
        }
    }

    /// Waits up to `timeout` for the child to end; nil when it still runs.
    public func wait(timeout: Duration) async throws -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let termination { return termination }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Blocks this thread until the child ends.
    @discardableResult
    public func waitUntilExit() -> Termination {
        while true {
            if let termination { return termination }
            // Waits without reaping (WNOWAIT), outside the lock, so `send` is never held up by a waiting thread.
            var info = siginfo_t()
            _ = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
        }
    }

    /// Reads the captured output to its end (once the child and everything it started have closed it); empty unless
    /// the output is `.captured`.
    public func readOutput() -> String {
        guard output >= 0 else { return "" }
        return String(decoding: FileHandle(fileDescriptor: output, closeOnDealloc: false).readDataToEndOfFile(), as: UTF8.self)
    }

    deinit {
        if ended.withLock({ $0 == nil }) {
            _ = kill(pid, SIGKILL)
            waitUntilExit()
        }
        if output >= 0 { close(output) }
    }

    /// `waitpid` under the lock, so `send` never signals a pid that has been reaped.
    private func reap() -> Termination? {
        ended.withLock { ended in
            if let ended { return ended }
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &status, WNOHANG) } while result == -1 && errno == EINTR
            if result == -1 && errno == ECHILD {
                // Reaped elsewhere (or SIGCHLD ignored): ended, with its status lost.
                ended = .exited(-1)
                return ended
            }
            guard result == pid else { return nil }
            // WIFEXITED / WTERMSIG, which Swift does not import from the C macros.
            let signal = status & 0x7f
            ended = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
            return ended
        }
    }

    private static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift does not import; looked up once.
    private static let closeFrom: CloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// The child keeps only its standard descriptors: others this process opened without close-on-exec (another
    /// child's pipe, say) would otherwise stay open in it.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        if let closeFrom, closeFrom(&actions, 3) == 0 { return }
        // An older C library: close what is open now, one action each.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
        for descriptor in open where descriptor > 2 { posix_spawn_file_actions_addclose(&actions, descriptor) }
    }
}
