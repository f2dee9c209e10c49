/// Why an FFCE blob could not be opened.
public enum FFCEError: Error, Equatable, Sendable {
    /// Fewer than the 37 header bytes.
    case tooShort(Int)
    /// The first four bytes are not `FFCE`.
    case badMagic
    /// A version other than 0x01.
    case unsupportedVersion(UInt8)
    /// The length field disagrees with the ciphertext that follows the header.
    case lengthMismatch(declared: UInt32, actual: Int)
    /// The GCM tag does not authenticate the ciphertext under this key.
    case authenticationFailed
    /// The plaintext is longer than a 32-bit length field can say.
    case plaintextTooLarge(Int)
}
