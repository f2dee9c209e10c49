import Crypto
import Foundation

/// The signature headers of a device request, parsed and well-formed (not yet verified).
public struct SignedRequest: Sendable {
    /// Length of the random nonce in bytes.
    public static let nonceLength = 32

    /// The `X-Device-UUID` header as sent.
    public let uuidHeader: String
    /// The nonce bytes.
    public let nonce: Data
    /// The nonce as sent (Base64); v2 signs this text.
    public let nonceBase64: String
    /// The timestamp text as sent.
    public let timestampText: String
    /// The parsed timestamp.
    public let timestamp: DeviceTimestamp
    /// The DER signature bytes.
    public let signature: Data
    /// The signature scheme.
    public let version: SignatureVersion

    /// Parses the raw header values in the contract's order of checks.
    public init(
        uuid: String?,
        nonce: String?,
        timestamp: String?,
        signature: String?,
        version: String?
    ) throws(DeviceAuthError) {
        guard let uuid, let nonce, let timestamp, let signature, !uuid.isEmpty, !nonce.isEmpty, !timestamp.isEmpty,
            !signature.isEmpty
        else { throw .missingHeaders }
        guard let nonceBytes = Data(base64Encoded: nonce), let signatureBytes = Data(base64Encoded: signature) else {
            throw .invalidBase64
        }
        guard nonceBytes.count == Self.nonceLength else { throw .nonceLength }
        guard let parsedTimestamp = DeviceTimestamp(timestamp) else { throw .invalidTimestamp }
        let parsedVersion: SignatureVersion
        if let version {
            guard let known = SignatureVersion(rawValue: version) else { throw .unsupportedVersion }
            parsedVersion = known
        } else {
            parsedVersion = .v1
        }
        self.uuidHeader = uuid
        self.nonce = nonceBytes
        self.nonceBase64 = nonce
        self.timestampText = timestamp
        self.timestamp = parsedTimestamp
        self.signature = signatureBytes
        self.version = parsedVersion
    }

    /// The `X-Device-UUID` header as a UUID, nil when it is not one.
    public var uuid: UUID? { DeviceUUID.parse(uuidHeader) }

    /// The bytes the device signed, for this request's method, path (with query) and body hash.
    public func signedBytes(method: String, path: String, bodySHA256Hex: @autoclosure () -> String) -> Data {
        SigningInput.message(
            version,
            nonce: nonce,
            nonceBase64: nonceBase64,
            timestamp: timestampText,
            method: method,
            path: path,
            bodySHA256Hex: bodySHA256Hex()
        )
    }

    /// Whether the signature is a valid ECDSA-P256-SHA256 DER signature by `key` over the signed bytes.
    public func isValid(for key: DevicePublicKey, method: String, path: String, bodySHA256Hex: @autoclosure () -> String) -> Bool {
        let message = signedBytes(method: method, path: path, bodySHA256Hex: bodySHA256Hex())
        return RequestSigner.isValid(signatureDER: signature, for: message, by: key)
    }
}
