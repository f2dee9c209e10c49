/// Why a device identity key could not be made.
public enum IdentityError: Error, Equatable, Sendable {
    /// The master key must be exactly 32 bytes.
    case masterKeyLength(Int)
    /// The derived auth scalar is 0 or not below the P-256 group order.
    case invalidScalar
    /// The public key is not a Base64 65-byte uncompressed P-256 point (prefix 0x04) on the curve.
    case invalidPublicKey
}
