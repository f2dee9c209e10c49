import EmberCore
import Testing

struct SecretBytesTests {
    @Test func holdsACopyOfItsBytes() {
        let secret = SecretBytes(copying: [1, 2, 3, 255])
        #expect(secret.count == 4)
        #expect(secret.withUnsafeBytes { Array($0) } == [1, 2, 3, 255])
    }

    @Test func wipeOverwritesEveryByteInPlace() {
        let secret = SecretBytes(copying: (0..<64).map { UInt8($0 | 0x80) })
        let address = secret.withUnsafeBytes { $0.baseAddress }
        secret.wipe()
        #expect(secret.withUnsafeBytes { $0.baseAddress } == address, "the same memory, not a fresh buffer")
        #expect(secret.withUnsafeBytes { $0.allSatisfy { $0 == 0 } })
    }

    @Test func mutableAccessFillsTheBuffer() {
        let secret = SecretBytes(count: 3)
        #expect(secret.withUnsafeBytes { Array($0) } == [0, 0, 0])
        secret.withUnsafeMutableBytes { $0.copyBytes(from: [7, 8, 9]) }
        #expect(secret.withUnsafeBytes { Array($0) } == [7, 8, 9])
    }
}
