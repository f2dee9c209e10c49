/// A hardware operation that failed.
public enum HardwareError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The identity is already burned; eFuse cannot be rewritten.
    case alreadyProvisioned
    /// No identity (or no master key) is burned yet.
    case notProvisioned
    /// Writing eFuse failed; nothing was burned.
    case efuseWriteFailed(String)
    /// The board's files cannot be read or written.
    case storage(String)
    /// A key derived from BLOCK3 is not a valid P-256 scalar (or cannot be derived).
    case keyDerivationFailed
    /// Sealing data with a derived key failed.
    case encryptionFailed

    public var description: String {
        switch self {
        case .alreadyProvisioned: "Device already provisioned; eFuse identity cannot be overwritten"
        case .notProvisioned: "Device identity not provisioned"
        case .efuseWriteFailed(let reason): "Error during eFuse write: \(reason)"
        case .storage(let reason): reason
        case .keyDerivationFailed: "Key derivation failed"
        case .encryptionFailed: "Encryption failed"
        }
    }
}
