import Crypto
import EmberCore
import Foundation

/// A signing key made by a rotation (epoch ≥ 1): a fresh P-256 key from the CSPRNG.
struct RotatedKey: Codable, Sendable {
    var epoch: Int
    /// The 32-byte private scalar.
    var privateKey: Data

    enum CodingKeys: String, CodingKey {
        case epoch
        case privateKey = "private_key"
    }

    /// A fresh key for `epoch`.
    static func generate(epoch: Int) -> RotatedKey {
        RotatedKey(epoch: epoch, privateKey: P256.Signing.PrivateKey().rawRepresentation)
    }

    func signingKey() throws(HardwareError) -> P256.Signing.PrivateKey {
        do { return try P256.Signing.PrivateKey(rawRepresentation: privateKey) } catch { throw .keyDerivationFailed }
    }
}

/// The key a request is signed with, and its epoch.
struct SigningIdentity: Sendable {
    var epoch: Int
    var key: P256.Signing.PrivateKey
}

/// The device's rotated keys on the config partition, each sealed in FFCE with the configfs key: `key-current`
/// (the key in use, epoch ≥ 1) and `key-pending` (the next one, submitted or about to be). Without `key-current`
/// the device signs with epoch 0, FireFly's key derived from BLOCK3.
struct DeviceKeyStore: Sendable {
    static let current = "key-current"
    static let pending = "key-pending"

    let board: any Hardware

    /// A sealed key file; nil when absent. A file that does not open is a storage failure, never epoch 0.
    func load(_ name: String) throws(HardwareError) -> RotatedKey? {
        guard let sealed = try board.config.read(name) else { return nil }
        let key = try board.deriveKey(.configfs)
        guard let plain = try? FFCEContainer.open(sealed, using: key), let rotated = try? JSONDecoder().decode(RotatedKey.self, from: plain)
        else { throw .storage("\(name) does not open with this board's key") }
        return rotated
    }

    /// Seals and writes a key file durably.
    func write(_ name: String, _ rotated: RotatedKey) throws(HardwareError) {
        let key = try board.deriveKey(.configfs)
        let sealed: Data
        do { sealed = try FFCEContainer.seal(try JSONEncoder().encode(rotated), using: key) } catch { throw .encryptionFailed }
        try board.config.write(name, sealed)
    }

    /// The key requests are signed with now.
    func signingIdentity() throws(HardwareError) -> SigningIdentity {
        if let current = try load(Self.current) { return SigningIdentity(epoch: current.epoch, key: try current.signingKey()) }
        return try epochZero()
    }

    /// FireFly's key: HKDF(BLOCK3, `firefly-auth-v1`).
    func epochZero() throws(HardwareError) -> SigningIdentity {
        do { return SigningIdentity(epoch: 0, key: try MasterKey.signingKey(scalar: board.deriveKey(.auth))) } catch {
            throw .keyDerivationFailed
        }
    }

    /// The epoch in use (0 without a rotated key).
    func currentEpoch() throws(HardwareError) -> Int {
        try load(Self.current)?.epoch ?? 0
    }
}
