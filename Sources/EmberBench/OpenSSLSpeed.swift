import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The single-core ECDSA P-256 rates of `openssl speed` on this machine: the physical anchor for our figures.
public struct OpenSSLSpeed: Sendable, Codable {
    public let signPerSecond: Double
    public let verifyPerSecond: Double
    public let version: String

    /// Runs `openssl speed -mr -seconds N ecdsap256` and reads its `+F4` line (sign/s, verify/s); nil if openssl is missing or says nothing usable.
    public static func measure(seconds: Int) -> OpenSSLSpeed? {
        guard let output = run(["speed", "-mr", "-seconds", String(seconds), "ecdsap256"]) else { return nil }
        for line in output.split(separator: "\n") where line.hasPrefix("+F4:") {
            let fields = line.split(separator: ":")
            guard fields.count >= 5, let sign = Double(fields[3]), let verify = Double(fields[4]) else { continue }
            let version = run(["version"])?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "openssl"
            return OpenSSLSpeed(signPerSecond: sign, verifyPerSecond: verify, version: version)
        }
        return nil
    }

    /// AES-256-GCM encryption of 512 KiB buffers on one core (`openssl speed -evp aes-256-gcm`), in MB/s (10⁶ bytes).
    public static func aesGCMMegabytesPerSecond(seconds: Int) -> Double? {
        guard let output = run(["speed", "-mr", "-seconds", String(seconds), "-bytes", "524288", "-evp", "aes-256-gcm"]) else { return nil }
        for line in output.split(separator: "\n") where line.hasPrefix("+F:") {
            if let bytes = line.split(separator: ":").last.flatMap({ Double($0) }) { return bytes / 1e6 }
        }
        return nil
    }

    /// Runs openssl with an empty signal mask and default handlers: `speed -seconds` ends its loops on SIGALRM,
    /// which the threads of Swift's concurrency pool keep blocked and a plain spawn would pass on.
    private static func run(_ arguments: [String]) -> String? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, fds[0])
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
        let argv = (["openssl"] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "openssl", &actions, &attributes, argv, environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard spawned == 0 else { return nil }
        let output = FileHandle(fileDescriptor: fds[0], closeOnDealloc: false).readDataToEndOfFile()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else { return nil }
        return String(decoding: output, as: UTF8.self)
    }
}
