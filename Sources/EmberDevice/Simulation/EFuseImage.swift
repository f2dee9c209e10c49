import EmberCore

/// The eFuse bits the agent uses, as one image: BLOCK1 (identity), BLOCK3 (master key), the VDD_SDIO fuses.
///
/// One-time programmable: programming ORs bits in, so a bit set to 1 never returns to 0.
public struct EFuseImage: Sendable, Equatable {
    /// A region of the image.
    public enum Region: Sendable, CaseIterable {
        case block1, block3, vddSDIO

        var range: Range<Int> {
            switch self {
            case .block1: 0..<32
            case .block3: 32..<64
            case .vddSDIO: 64..<65
            }
        }
    }

    /// Bytes in a stored image.
    public static let byteCount = 65

    /// The raw image.
    public private(set) var bytes: [UInt8]

    /// A blank chip: every bit 0.
    public init() {
        self.bytes = [UInt8](repeating: 0, count: Self.byteCount)
    }

    /// A stored image; nil unless it is exactly `byteCount` bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// The bytes of a region.
    public func read(_ region: Region) -> [UInt8] {
        Array(bytes[region.range])
    }

    /// True when every bit of the region is 0.
    public func isBlank(_ region: Region) -> Bool {
        bytes[region.range].allSatisfy { $0 == 0 }
    }

    /// Reads a region in place, without copying it (for BLOCK3's key material).
    public func withRegion<R>(_ region: Region, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[region.range])) }
    }

    /// Burns every 1 bit of `bits` into the region, from its first byte, straight from the caller's buffer.
    public mutating func program(_ region: Region, from bits: UnsafeRawBufferPointer) {
        precondition(bits.count <= region.range.count, "more bits than the region holds")
        for (offset, byte) in bits.enumerated() {
            bytes[region.range.lowerBound + offset] |= byte
        }
    }

    /// Overwrites the image with zeros in place (the cached copy of a session that ends).
    public mutating func wipe() {
        bytes.withUnsafeMutableBytes { buffer in SecretBytes.zero(buffer) }
    }

    /// Burns every 1 bit of `bits` into the region, from its first byte; 0 bits leave a burned bit burned.
    public mutating func program(_ region: Region, bits: [UInt8]) {
        precondition(bits.count <= region.range.count, "more bits than the region holds")
        for (offset, byte) in bits.enumerated() {
            bytes[region.range.lowerBound + offset] |= byte
        }
    }
}
