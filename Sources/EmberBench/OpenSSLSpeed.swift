import EmberSystem
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

    private static func run(_ arguments: [String]) -> String? {
        guard let run = ChildProcess.run("openssl", arguments), run.termination == .exited(0) else { return nil }
        return run.output
    }
}
