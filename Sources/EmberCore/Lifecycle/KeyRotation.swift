import Crypto
import Foundation

/// `POST /devices/{uuid}/keys`, as sent: the next epoch's public key and the new key's proof of possession.
public struct KeySubmission: Codable, Sendable, Equatable {
    public var epoch: Int?
    public var publicKey: String?
    public var proof: String?

    enum CodingKeys: String, CodingKey {
        case epoch, proof
        case publicKey = "public_key"
    }

    public init(epoch: Int?, publicKey: String?, proof: String?) {
        self.epoch = epoch
        self.publicKey = publicKey
        self.proof = proof
    }

    /// The epoch (≥ 1) and the parsed key, after checking the proof over `nonce` for `uuid`.
    public func validated(uuid: UUID, nonce: String) throws(WireError) -> (epoch: Int, key: DevicePublicKey) {
        guard let epoch else { throw .required("epoch") }
        guard epoch >= 1 else { throw WireError("epoch must be at least 1") }
        guard let publicKey else { throw .required("public_key") }
        let key: DevicePublicKey
        do { key = try DevicePublicKey(base64: publicKey) } catch { throw .invalidPublicKey }
        guard let proof else { throw .required("proof") }
        guard let der = Data(base64Encoded: proof), let signature = try? P256.Signing.ECDSASignature(derRepresentation: der),
            key.key.isValidSignature(signature, for: KeyProof.message(uuid: uuid, epoch: epoch, nonce: nonce))
        else { throw WireError("Key proof verification failed") }
        return (epoch, key)
    }
}

/// The proof that a device holds the private half of a key it submits.
public enum KeyProof {
    /// UTF-8 `EMBER-KEY-PROOF\n<uuid lowercase>\n<epoch>\n<nonce>`.
    public static func message(uuid: UUID, epoch: Int, nonce: String) -> Data {
        Data("EMBER-KEY-PROOF\n\(DeviceUUID.format(uuid))\n\(epoch)\n\(nonce)".utf8)
    }

    /// The DER signature by `key` over the proof message, Base64.
    public static func sign(key: P256.Signing.PrivateKey, uuid: UUID, epoch: Int, nonce: String) throws -> String {
        try key.signature(for: message(uuid: uuid, epoch: epoch, nonce: nonce)).derRepresentation.base64EncodedString()
    }
}

/// A device key as the registry keeps it.
public struct DeviceKeyInfo: Codable, Sendable, Equatable {
    public var epoch: Int
    public var publicKey: String
    public var state: KeyState
    public var createdAt: Int64
    public var activatedAt: Int64?
    public var retiredAt: Int64?

    enum CodingKeys: String, CodingKey {
        case epoch, state
        case publicKey = "public_key"
        case createdAt = "created_at"
        case activatedAt = "activated_at"
        case retiredAt = "retired_at"
    }

    public init(epoch: Int, publicKey: String, state: KeyState, createdAt: Int64, activatedAt: Int64?, retiredAt: Int64?) {
        self.epoch = epoch
        self.publicKey = publicKey
        self.state = state
        self.createdAt = createdAt
        self.activatedAt = activatedAt
        self.retiredAt = retiredAt
    }
}

/// A device key's state: submitted, in use, or never to verify again.
public enum KeyState: String, Codable, Sendable {
    case pending, active, retired
}

/// `201`/`200` of `POST /devices/{uuid}/keys`.
public struct KeyAccepted: Codable, Sendable, Equatable {
    public var epoch: Int
    public var state: KeyState

    public init(epoch: Int, state: KeyState) {
        self.epoch = epoch
        self.state = state
    }
}
