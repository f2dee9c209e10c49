import Crypto
import EmberCore
import Foundation

/// `ember bench crypto`: our signing, verification, HKDF and FFCE rates beside openssl's, single core.
public enum CryptoBenchmark {
    /// The figures of one run; `*_ratio_to_openssl` compare with `openssl speed` measured in the same run.
    public struct Result: Codable, Sendable {
        public var signPerS: Double
        public var deviceSignPerS: Double
        public var verifyPerS: Double
        public var verifyV2PerS: Double
        public var hkdfPerS: Double
        public var ffceSealMBPerS: Double
        public var ffceOpenMBPerS: Double
        public var opensslSignPerS: Double?
        public var opensslVerifyPerS: Double?
        public var opensslVersion: String?
        public var signRatioToOpenssl: Double?
        public var verifyRatioToOpenssl: Double?
        public var secondsPerFigure: Double

        enum CodingKeys: String, CodingKey {
            case signPerS = "sign_per_s"
            case deviceSignPerS = "device_sign_per_s"
            case verifyPerS = "verify_per_s"
            case verifyV2PerS = "verify_v2_per_s"
            case hkdfPerS = "hkdf_per_s"
            case ffceSealMBPerS = "ffce_seal_mb_per_s"
            case ffceOpenMBPerS = "ffce_open_mb_per_s"
            case opensslSignPerS = "openssl_sign_per_s"
            case opensslVerifyPerS = "openssl_verify_per_s"
            case opensslVersion = "openssl_version"
            case signRatioToOpenssl = "sign_ratio_to_openssl"
            case verifyRatioToOpenssl = "verify_ratio_to_openssl"
            case secondsPerFigure = "seconds_per_figure"
        }
    }

    /// A benchmark run that could not be set up.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Measures every figure for `seconds` each, then runs openssl for `opensslSeconds` per operation.
    public static func run(seconds: Double, opensslSeconds: Int, progress: (String) -> Void = { _ in }) throws -> Result {
        let master = MasterKey.random()
        let uuid = UUID()
        let key = try master.signingKey()
        let publicKey = DevicePublicKey(key.publicKey)
        let path = "/devices/\(DeviceUUID.format(uuid))/registration"
        let now = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))

        progress("ECDSA sign (v1 message, prepared key)")
        let nonce = Data(repeating: 0x5A, count: 32)
        let v1Message = SigningInput.v1(nonce: nonce, timestamp: now.text)
        let sign = try measure(seconds: seconds, batch: 1) { try key.signature(for: v1Message).derRepresentation.count }

        progress("device sign (HKDF + key + v2 signature per request)")
        let deviceSign = try measure(seconds: seconds, batch: 1) {
            try RequestSigner.sign(master: master, uuid: uuid, version: .v2, method: "GET", path: path, at: now).signature.count
        }

        progress("verify v1 (header parsing + ECDSA verify)")
        let v1 = try RequestSigner.sign(master: master, uuid: uuid, version: .v1, method: "GET", path: path, at: now)
        let verify = try measure(seconds: seconds, batch: 1) {
            let request = try SignedRequest(uuid: v1.uuid, nonce: v1.nonce, timestamp: v1.timestamp, signature: v1.signature, version: nil)
            return request.isValid(for: publicKey, method: "GET", path: path, bodySHA256Hex: "") ? 1 : 0
        }
        guard verify.checksum > 0 else { throw Failure(description: "v1 signatures did not verify") }

        progress("verify v2 (header parsing + body hash + ECDSA verify)")
        let v2 = try RequestSigner.sign(master: master, uuid: uuid, version: .v2, method: "GET", path: path, at: now)
        let verifyV2 = try measure(seconds: seconds, batch: 1) {
            let request = try SignedRequest(uuid: v2.uuid, nonce: v2.nonce, timestamp: v2.timestamp, signature: v2.signature, version: "2")
            return request.isValid(for: publicKey, method: "GET", path: path, bodySHA256Hex: SigningInput.bodyHash(Data())) ? 1 : 0
        }
        guard verifyV2.checksum > 0 else { throw Failure(description: "v2 signatures did not verify") }

        progress("HKDF-SHA256")
        let hkdf = measure(seconds: seconds, batch: 1) { master.derive(.backup).bitCount }

        progress("FFCE seal/open at 512 KiB")
        let backupKey = master.derive(.backup)
        let plaintext = Data((0..<524_288).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let seal = try measure(seconds: seconds, batch: 1) { try FFCEContainer.seal(plaintext, using: backupKey).count }
        let blob = try FFCEContainer.seal(plaintext, using: backupKey)
        let open = try measure(seconds: seconds, batch: 1) { try FFCEContainer.open(blob, using: backupKey).count }

        progress("openssl speed -seconds \(opensslSeconds) ecdsap256")
        let openssl = OpenSSLSpeed.measure(seconds: opensslSeconds)
        let megabytes = Double(plaintext.count) / 1_048_576
        return Result(
            signPerS: sign.perSecond,
            deviceSignPerS: deviceSign.perSecond,
            verifyPerS: verify.perSecond,
            verifyV2PerS: verifyV2.perSecond,
            hkdfPerS: hkdf.perSecond,
            ffceSealMBPerS: seal.perSecond * megabytes,
            ffceOpenMBPerS: open.perSecond * megabytes,
            opensslSignPerS: openssl?.signPerSecond,
            opensslVerifyPerS: openssl?.verifyPerSecond,
            opensslVersion: openssl?.version,
            signRatioToOpenssl: openssl.map { sign.perSecond / $0.signPerSecond },
            verifyRatioToOpenssl: openssl.map { verify.perSecond / $0.verifyPerSecond },
            secondsPerFigure: seconds
        )
    }
}

extension CryptoBenchmark.Result {
    /// A human table of the figures with their openssl ratios.
    public var table: String {
        func rate(_ value: Double) -> String { String(format: "%12.0f", value) }
        func ratio(_ value: Double?) -> String { value.map { String(format: "%.2f×", $0) } ?? "n/a" }
        func optional(_ value: Double?) -> String { value.map(rate) ?? String(repeating: " ", count: 9) + "n/a" }
        return """
            figure                                   ours/s    openssl/s   ratio
            ECDSA P-256 sign (v1 message)      \(rate(signPerS)) \(optional(opensslSignPerS))   \(ratio(signRatioToOpenssl))
            ECDSA P-256 verify (v1 request)    \(rate(verifyPerS)) \(optional(opensslVerifyPerS))   \(ratio(verifyRatioToOpenssl))
            ECDSA P-256 verify (v2 request)    \(rate(verifyV2PerS)) \(optional(opensslVerifyPerS))   \(ratio(opensslVerifyPerS.map { verifyV2PerS / $0 }))
            device sign (derive key + v2 sign) \(rate(deviceSignPerS))
            HKDF-SHA256 derive                 \(rate(hkdfPerS))
            FFCE seal 512 KiB (MB/s)           \(String(format: "%12.1f", ffceSealMBPerS))
            FFCE open 512 KiB (MB/s)           \(String(format: "%12.1f", ffceOpenMBPerS))
            single core, \(secondsPerFigure) s per figure; openssl: \(opensslVersion ?? "not found")
            """
    }
}
