import Crypto
import EmberCore
import Foundation

/// How registration keys rest in the database: an HMAC-SHA256 of the key indexes it (so a spend stays one indexed
/// statement), and an AES-GCM ciphertext lets FireFly's listing show the owner the full key. Both use subkeys of a
/// key-encryption key kept outside the database, so a copy of the database alone reveals no usable key.
public struct RegistrationKeySealer: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private let lookupKey: SymmetricKey
    private let sealKey: SymmetricKey
    /// A short HMAC of a constant: tells whether two instances hold the same key-encryption key, and reveals nothing.
    public let fingerprint: String

    /// Subkeys of `keyEncryptionKey` (HKDF-SHA256, one label per use).
    public init(keyEncryptionKey: SymmetricKey) {
        func subkey(_ label: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: keyEncryptionKey, info: Data(label.utf8), outputByteCount: 32)
        }
        lookupKey = subkey("ember-registration-key-lookup-v1")
        sealKey = subkey("ember-registration-key-seal-v1")
        fingerprint =
            Hex.encode(HMAC<SHA256>.authenticationCode(for: Data("ember-kek-fingerprint".utf8), using: subkey("ember-kek-check-v1")))
            .prefix(16).description
    }

    /// A sealer with a random key-encryption key: for registries that live in one process (tests, benchmarks).
    public static func ephemeral() -> RegistrationKeySealer {
        RegistrationKeySealer(keyEncryptionKey: SymmetricKey(size: .bits256))
    }

    /// The index of `key` (case-insensitive, as keys are).
    public func lookup(_ key: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(key.uppercased().utf8), using: lookupKey))
    }

    /// `key` encrypted, bound to its lookup so a ciphertext cannot be moved to another row.
    public func seal(_ key: String) throws -> String {
        let box = try AES.GCM.seal(Data(key.uppercased().utf8), using: sealKey, authenticating: Data(lookup(key).utf8))
        guard let combined = box.combined else { throw Failure(description: "AES-GCM produced no combined box") }
        return combined.base64EncodedString()
    }

    /// The key a `seal` produced for the row with `lookup`.
    public func open(_ sealed: String, lookup: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw Failure(description: "a sealed registration key is not Base64") }
        do {
            let plaintext = try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: sealKey, authenticating: Data(lookup.utf8))
            return String(decoding: plaintext, as: UTF8.self)
        } catch {
            throw Failure(description: "a registration key does not open with this key-encryption key")
        }
    }
}
