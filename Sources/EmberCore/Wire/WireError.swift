/// A request body or header the client must fix; `message` is the exact text to send back.
public struct WireError: Error, Equatable, Sendable {
    /// The `{"message": …}` text.
    public let message: String

    /// An error with this message.
    public init(_ message: String) {
        self.message = message
    }

    /// FireFly's message for a missing or falsy required field.
    public static func required(_ field: String) -> WireError { WireError("\(field) is required") }
    /// FireFly: `X-Registration-Key` missing or not 6 characters.
    public static let registrationKeyHeader = WireError("X-Registration-Key header is required and must be 6 characters")
    /// FireFly: the `uuid` field is not a UUID.
    public static let invalidUUID = WireError("uuid must be a valid UUID")
    /// FireFly: the `product_hex` field does not match `0xXXXXXXXX`.
    public static let invalidProductHex = WireError("product_hex must match 0xXXXXXXXX")
    /// FireFly: the `public_key` field is not an uncompressed P-256 point.
    public static let invalidPublicKey = WireError(
        "public_key must be a Base64-encoded uncompressed P-256 point (65 bytes, prefix 0x04)"
    )
}
