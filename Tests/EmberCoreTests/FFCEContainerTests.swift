import Crypto
import EmberCore
import Foundation
import Testing

/// Round trips, single-bit tampering and each typed error of the FFCE container.
struct FFCEContainerTests {
    let key = SymmetricKey(size: .bits256)

    static let sizes: [Int] = {
        var sizes = [0, 1, 15, 16, 17, 36, 37, 38, 255, 256, 4_095, 4_096, 65_535, 65_536, 524_287, 524_288, 524_289, 614_400]
        var generator = SystemRandomNumberGenerator()
        sizes += (0..<12).map { _ in Int(generator.next(upperBound: UInt64(614_401))) }
        return sizes
    }()

    @Test(arguments: sizes)
    func sealThenOpenRoundTrips(size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let plaintext = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let blob = try FFCEContainer.seal(plaintext, using: key)
        #expect(blob.count == FFCEContainer.headerLength + size)
        #expect(try FFCEContainer.open(blob, using: key) == plaintext)
    }

    @Test func freshNonceEverySeal() throws {
        let plaintext = Data("same".utf8)
        #expect(try FFCEContainer.seal(plaintext, using: key) != FFCEContainer.seal(plaintext, using: key))
    }

    @Test func everySingleBitFlipIsRejected() throws {
        let blob = try FFCEContainer.seal(Data((0..<64).map { UInt8($0) }), using: key)
        for bit in 0..<(blob.count * 8) {
            var flipped = blob
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: FFCEError.self) { try FFCEContainer.open(flipped, using: key) }
        }
    }

    @Test func bitFlipsInALargeBlobAreRejected() throws {
        let blob = try FFCEContainer.seal(Data(repeating: 0x41, count: 300 * 1_024), using: key)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<64 {
            let bit = Int(generator.next(upperBound: UInt64(blob.count * 8)))
            var flipped = blob
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: FFCEError.self) { try FFCEContainer.open(flipped, using: key) }
        }
    }

    @Test func emptyPlaintextTagIsStillChecked() throws {
        var blob = try FFCEContainer.seal(Data(), using: key)
        blob[30] ^= 0x01
        #expect(throws: FFCEError.authenticationFailed) { try FFCEContainer.open(blob, using: key) }
    }

    @Test func eachStructuralFaultHasItsOwnError() throws {
        let blob = try FFCEContainer.seal(Data("hello".utf8), using: key)
        #expect(throws: FFCEError.tooShort(36)) { try FFCEContainer.open(blob.prefix(36), using: key) }
        #expect(throws: FFCEError.tooShort(0)) { try FFCEContainer.open(Data(), using: key) }
        var magic = blob
        magic[0] = UInt8(ascii: "X")
        #expect(throws: FFCEError.badMagic) { try FFCEContainer.open(magic, using: key) }
        var version = blob
        version[4] = 0x02
        #expect(throws: FFCEError.unsupportedVersion(2)) { try FFCEContainer.open(version, using: key) }
        #expect(throws: FFCEError.lengthMismatch(declared: 5, actual: 4)) { try FFCEContainer.open(blob.dropLast(), using: key) }
        #expect(throws: FFCEError.lengthMismatch(declared: 5, actual: 6)) { try FFCEContainer.open(blob + [0], using: key) }
        #expect(throws: FFCEError.authenticationFailed) { try FFCEContainer.open(blob, using: SymmetricKey(size: .bits256)) }
    }

    @Test func headerChecksStructureWithoutAKey() throws {
        let blob = try FFCEContainer.seal(Data("hello".utf8), using: key)
        let header = try FFCEContainer.header(of: blob)
        #expect(header.plaintextLength == 5)
        #expect(header.nonce == blob[5..<17])
        // A slice that does not start at index 0 parses the same way.
        let slice = (Data([9, 9]) + blob).dropFirst(2)
        #expect(try FFCEContainer.header(of: slice) == header)
    }

    @Test func randomBytesNeverCrashOpen() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2_000 {
            var bytes = (0..<Int(generator.next(upperBound: UInt64(120)))).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 2 == 0 && bytes.count >= 5 {  // half the inputs get past the magic and version checks
                bytes.replaceSubrange(0..<5, with: FFCEContainer.magic + [FFCEContainer.version])
            }
            #expect(throws: FFCEError.self) { try FFCEContainer.open(Data(bytes), using: key) }
        }
    }
}
