import Crypto
import EmberCore
import Foundation
import Testing

@testable import EmberCore

/// Typed errors of identity keys and the public-key wire form.
struct IdentityTests {
    @Test(arguments: [0, 16, 31, 33, 64])
    func masterKeyOfWrongLengthIsATypedError(length: Int) {
        #expect(throws: IdentityError.masterKeyLength(length)) { try MasterKey(bytes: Data(count: length)) }
    }

    @Test func scalarOutsideTheGroupIsATypedError() {
        let order = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
        for scalar in ["00" + String(repeating: "0", count: 62), order, String(repeating: "f", count: 64)] {
            let key = SymmetricKey(data: Hex.decode(scalar) ?? [])
            #expect(throws: IdentityError.invalidScalar) { try MasterKey.signingKey(scalar: key) }
        }
    }

    @Test func randomMasterKeysGiveDistinctIdentities() throws {
        #expect(try MasterKey.random().publicKey() != MasterKey.random().publicKey())
    }

    @Test func publicKeyWireFormIs88Base64Characters() throws {
        let key = try MasterKey.random().publicKey()
        #expect(key.base64.count == 88)
        #expect(key.uncompressed.first == 0x04)
    }

    @Test func publicKeysThatAreNotUncompressedPointsAreRejected() throws {
        let good = try MasterKey.random().publicKey().uncompressed
        var offCurve = good
        offCurve[64] ^= 0x01
        var compressedPrefix = good
        compressedPrefix[0] = 0x02
        let compressed = try MasterKey.random().signingKey().publicKey.compressedRepresentation
        for bytes in [offCurve, compressedPrefix, good.dropLast(), good + [0], compressed, Data(), Data(count: 65)] {
            #expect(throws: IdentityError.invalidPublicKey) { try DevicePublicKey(uncompressed: bytes) }
        }
        for text in ["", "not base64!", good.base64EncodedString().dropLast(2) + "", String(repeating: "A", count: 88)] {
            #expect(throws: IdentityError.invalidPublicKey) { try DevicePublicKey(base64: text) }
        }
    }
}
