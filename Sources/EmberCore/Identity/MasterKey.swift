import Crypto
import Foundation

/// The 32-byte secret burned into eFuse BLOCK3; every device key is derived from it.
///
/// The bytes live in a `SymmetricKey`, whose storage is zeroed when released.
public struct MasterKey: Sendable {
    /// Length of a master key in bytes.
    public static let byteCount = 32

    private let key: SymmetricKey

    /// Wraps raw master-key bytes; anything but 32 bytes is `IdentityError.masterKeyLength`.
    public init<Bytes: ContiguousBytes>(bytes: Bytes) throws(IdentityError) {
        let count = bytes.withUnsafeBytes { $0.count }
        guard count == Self.byteCount else { throw .masterKeyLength(count) }
        self.key = SymmetricKey(data: bytes)
    }

    /// A fresh master key from the system CSPRNG.
    public static func random() -> MasterKey {
        MasterKey(key: SymmetricKey(size: .bits256))
    }

    private init(key: SymmetricKey) {
        self.key = key
    }

    /// `HKDF-SHA256(master, salt: none, info: purpose label, 32 bytes)`.
    public func derive(_ purpose: KeyPurpose) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.rawValue.utf8), outputByteCount: 32)
    }

    /// The device's P-256 signing key: the auth key read as a big-endian scalar.
    public func signingKey() throws(IdentityError) -> P256.Signing.PrivateKey {
        try Self.signingKey(scalar: derive(.auth))
    }

    /// The P-256 key whose big-endian scalar is `scalar` (a derived auth key); 0 or ≥ the group order is `invalidScalar`.
    public static func signingKey(scalar: SymmetricKey) throws(IdentityError) -> P256.Signing.PrivateKey {
        do {
            return try scalar.withUnsafeBytes { try P256.Signing.PrivateKey(rawRepresentation: $0) }
        } catch {
            throw .invalidScalar
        }
    }

    /// The identity public key the device registers with.
    public func publicKey() throws(IdentityError) -> DevicePublicKey {
        DevicePublicKey(try signingKey().publicKey)
    }

    /// Hands the raw bytes to `body`, for writing them to eFuse; nothing else should need them.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try key.withUnsafeBytes(body)
    }
}
