import EmberCore
import EmberDevice
import Foundation
import Testing

/// The eFuse BLOCK1 identity layout.
struct IdentityBlockTests {
    @Test func layoutMatchesFireFly() throws {
        let uuid = try #require(DeviceUUID.parse("5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12"))
        let block = IdentityBlock(uuid: uuid, productHex: ProductHex(0x0806_2305)).block
        #expect(block.count == 32)
        #expect(Array(block[0..<4]) == [0x5F, 0x8C, 0x2A, 0x3E])
        #expect(Array(block[16..<20]) == [0x05, 0x23, 0x06, 0x08])
        #expect(block[20...].allSatisfy { $0 == 0 })
        #expect(IdentityBlock(block: block) == IdentityBlock(uuid: uuid, productHex: ProductHex(0x0806_2305)))
    }

    @Test func blankOrMisSizedBlocksAreUnprovisioned() {
        var blank = [UInt8](repeating: 0, count: 32)
        #expect(IdentityBlock(block: blank) == nil)
        blank[17] = 0xFF  // product bytes alone do not make a provisioned chip
        #expect(IdentityBlock(block: blank) == nil)
        #expect(IdentityBlock(block: [1, 2, 3]) == nil)
    }
}
