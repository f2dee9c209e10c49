import Crypto
import Foundation

/// A device identity public key, exchanged as Base64 of the 65-byte uncompressed point `04‖X‖Y`.
public struct DevicePublicKey: Sendable, Equatable {
    /// Length of the uncompressed SEC1 point.
    public static let uncompressedLength = 65

    /// The verifying key.
    public let key: P256.Signing.PublicKey

    /// Wraps a swift-crypto public key.
    public init(_ key: P256.Signing.PublicKey) {
        self.key = key
    }

    /// Parses the wire form; anything but Base64 of a 65-byte `0x04` point on the curve is `invalidPublicKey`.
    public init(base64 text: String) throws(IdentityError) {
        guard let bytes = Data(base64Encoded: text) else { throw .invalidPublicKey }
        try self.init(uncompressed: bytes)
    }

    /// Parses the 65-byte uncompressed point.
    public init(uncompressed bytes: Data) throws(IdentityError) {
        guard bytes.count == Self.uncompressedLength, bytes.first == 0x04 else { throw .invalidPublicKey }
        do {
            self.key = try P256.Signing.PublicKey(x963Representation: bytes)
        } catch {
            throw .invalidPublicKey
        }
    }

    /// The 65-byte uncompressed point.
    public var uncompressed: Data { key.x963Representation }

    /// Standard Base64 (with padding) of the uncompressed point: 88 characters.
    public var base64: String { uncompressed.base64EncodedString() }

    public static func == (lhs: DevicePublicKey, rhs: DevicePublicKey) -> Bool {
        lhs.uncompressed == rhs.uncompressed
    }
}
