import EmberCore
import Foundation

/// eFuse BLOCK1 as FireFly lays it out: bytes 0–15 the UUID in textual order, 16–19 the product hex little-endian.
public struct IdentityBlock: Sendable, Equatable {
    /// Size of eFuse BLOCK1 in bytes.
    public static let byteCount = 32

    /// The device UUID.
    public let uuid: UUID
    /// The product code.
    public let productHex: ProductHex

    /// An identity to burn.
    public init(uuid: UUID, productHex: ProductHex) {
        self.uuid = uuid
        self.productHex = productHex
    }

    /// Reads BLOCK1; nil when the UUID bytes are all zero (a blank, unprovisioned chip) or the block is not 32 bytes.
    public init?(block: [UInt8]) {
        guard block.count == Self.byteCount, block[0..<16].contains(where: { $0 != 0 }),
            let uuid = DeviceUUID.from(bytes: block[0..<16]), let productHex = ProductHex(littleEndian: block[16..<20])
        else { return nil }
        self.init(uuid: uuid, productHex: productHex)
    }

    /// The 32 bytes to burn into BLOCK1 (bytes 20–31 stay zero).
    public var block: [UInt8] {
        DeviceUUID.bytes(of: uuid) + productHex.littleEndianBytes + [UInt8](repeating: 0, count: 12)
    }
}
