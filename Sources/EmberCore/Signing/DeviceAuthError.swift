/// Why a device-signed request is refused; `message` is the exact text of the contract.
public enum DeviceAuthError: Error, Equatable, Sendable {
    case missingHeaders
    case invalidBase64
    case nonceLength
    case invalidTimestamp
    case unsupportedVersion
    case uuidMismatch
    case unknownDevice
    case outsideWindow
    case badSignature
    case nonceReused
    case signatureVersionRequired
    /// A lifecycle route: v1 does not bind the body.
    case signatureVersion2Required

    /// The `{"message": …}` text for this failure.
    public var message: String {
        switch self {
        case .missingHeaders:
            "X-Device-UUID, X-Device-Nonce, X-Device-Timestamp, and X-Device-Signature headers are required"
        case .invalidBase64: "X-Device-Nonce and X-Device-Signature must be valid Base64"
        case .nonceLength: "X-Device-Nonce must be 32 bytes"
        case .invalidTimestamp: "X-Device-Timestamp must be ISO 8601 UTC (e.g. 2025-05-09T12:00:00Z)"
        case .unsupportedVersion: "Unsupported X-Device-Signature-Version"
        case .uuidMismatch: "X-Device-UUID header does not match path parameter"
        case .unknownDevice: "Device not registered"
        case .outsideWindow: "X-Device-Timestamp is outside the acceptance window"
        case .badSignature: "Signature verification failed"
        case .nonceReused: "Nonce already used"
        case .signatureVersionRequired: "This registry requires X-Device-Signature-Version: 2"
        case .signatureVersion2Required: "Signature version 2 required"
        }
    }
}
