import Crypto
import Foundation

/// Makes and checks device request signatures (ECDSA P-256, SHA-256, DER).
public enum RequestSigner {
    /// The signature headers of one request.
    public struct Headers: Sendable, Equatable {
        public var uuid: String
        public var nonce: String
        public var timestamp: String
        public var signature: String
        public var version: SignatureVersion

        /// Headers with these values.
        public init(uuid: String, nonce: String, timestamp: String, signature: String, version: SignatureVersion) {
            self.uuid = uuid
            self.nonce = nonce
            self.timestamp = timestamp
            self.signature = signature
            self.version = version
        }

        /// Name/value pairs in the wire's header names; v1 omits `X-Device-Signature-Version`.
        public var fields: [(name: String, value: String)] {
            var fields = [
                (FireFlyHeader.deviceUUID, uuid), (FireFlyHeader.deviceNonce, nonce), (FireFlyHeader.deviceTimestamp, timestamp),
                (FireFlyHeader.deviceSignature, signature),
            ]
            if version == .v2 { fields.append((FireFlyHeader.deviceSignatureVersion, version.rawValue)) }
            return fields
        }
    }

    /// Signs a request for the device whose master key is given; the signing key lives only inside this call.
    public static func sign(
        master: MasterKey,
        uuid: UUID,
        version: SignatureVersion,
        method: String,
        path: String,
        body: Data = Data(),
        at time: DeviceTimestamp,
        nonce: Data? = nil
    ) throws(IdentityError) -> Headers {
        try sign(key: master.signingKey(), uuid: uuid, version: version, method: method, path: path, body: body, at: time, nonce: nonce)
    }

    /// Signs a request with a prepared key (load generators that sign many requests for the same device).
    public static func sign(
        key: P256.Signing.PrivateKey,
        uuid: UUID,
        version: SignatureVersion,
        method: String,
        path: String,
        body: Data = Data(),
        at time: DeviceTimestamp,
        nonce: Data? = nil
    ) throws(IdentityError) -> Headers {
        let nonceBytes = nonce ?? Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let nonceBase64 = nonceBytes.base64EncodedString()
        let message = SigningInput.message(
            version,
            nonce: nonceBytes,
            nonceBase64: nonceBase64,
            timestamp: time.text,
            method: method,
            path: path,
            bodySHA256Hex: SigningInput.bodyHash(body)
        )
        let signature: Data
        do {
            signature = try key.signature(for: message).derRepresentation
        } catch {
            throw .invalidScalar
        }
        return Headers(
            uuid: DeviceUUID.format(uuid),
            nonce: nonceBase64,
            timestamp: time.text,
            signature: signature.base64EncodedString(),
            version: version
        )
    }

    /// Whether `signatureDER` is a valid signature by `key` over `message`; malformed DER is simply invalid.
    public static func isValid(signatureDER: Data, for message: Data, by key: DevicePublicKey) -> Bool {
        guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signatureDER) else { return false }
        return key.key.isValidSignature(signature, for: message)
    }
}
