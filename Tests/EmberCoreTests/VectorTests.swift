import Crypto
import EmberCore
import EmberTestSupport
import Foundation
import Testing

/// Every case of `shared/vectors/device-crypto.json`, made by an independent implementation.
struct VectorTests {
    static let vectors: [CryptoVectors.Device] = (try? CryptoVectors.load().devices) ?? []

    @Test func vectorFileLoadsAndHasDevices() throws {
        let vectors = try CryptoVectors.load()
        #expect(vectors.devices.count >= 3)
    }

    @Test(arguments: vectors)
    func derivedKeysMatch(device: CryptoVectors.Device) throws {
        let master = try MasterKey(bytes: Data(vectorHex: device.masterKeyHex))
        #expect(master.derive(.auth).withUnsafeBytes { Hex.encode($0) } == device.keyAuthHex)
        #expect(master.derive(.backup).withUnsafeBytes { Hex.encode($0) } == device.keyBackupHex)
        #expect(master.derive(.configfs).withUnsafeBytes { Hex.encode($0) } == device.keyConfigfsHex)
        #expect(try master.signingKey().rawRepresentation == Data(vectorHex: device.keyAuthHex))
        #expect(try master.publicKey().base64 == device.publicKeyB64)
        #expect(try DevicePublicKey(base64: device.publicKeyB64) == master.publicKey())
    }

    @Test(arguments: vectors)
    func v1SignatureVerifies(device: CryptoVectors.Device) throws {
        let vector = device.signatureV1
        let nonce = try Data(vectorBase64: vector.nonceB64)
        let message = SigningInput.v1(nonce: nonce, timestamp: vector.timestamp)
        #expect(message == (try Data(vectorHex: vector.signedBytesHex)))
        let key = try DevicePublicKey(base64: device.publicKeyB64)
        let request = try SignedRequest(
            uuid: device.uuid,
            nonce: vector.nonceB64,
            timestamp: vector.timestamp,
            signature: vector.signatureDerB64,
            version: nil
        )
        #expect(request.version == .v1)
        #expect(request.isValid(for: key, method: "GET", path: "/devices/\(device.uuid)/registration", bodySHA256Hex: ""))
    }

    @Test(arguments: vectors)
    func v2SignatureVerifies(device: CryptoVectors.Device) throws {
        let vector = device.signatureV2
        let body = try Data(vectorBase64: vector.bodyB64)
        let message = SigningInput.v2(
            method: vector.method,
            path: vector.path,
            timestamp: vector.timestamp,
            nonceBase64: vector.nonceB64,
            bodySHA256Hex: SigningInput.bodyHash(body)
        )
        #expect(message == (try Data(vectorHex: vector.canonicalHex)))
        let request = try SignedRequest(
            uuid: device.uuid,
            nonce: vector.nonceB64,
            timestamp: vector.timestamp,
            signature: vector.signatureDerB64,
            version: "2"
        )
        let key = try DevicePublicKey(base64: device.publicKeyB64)
        #expect(request.isValid(for: key, method: vector.method, path: vector.path, bodySHA256Hex: SigningInput.bodyHash(body)))
        // Binding: another method, path or body must not verify.
        #expect(!request.isValid(for: key, method: "GET", path: vector.path, bodySHA256Hex: SigningInput.bodyHash(body)))
        #expect(!request.isValid(for: key, method: vector.method, path: vector.path + "?x=1", bodySHA256Hex: SigningInput.bodyHash(body)))
        #expect(!request.isValid(for: key, method: vector.method, path: vector.path, bodySHA256Hex: SigningInput.bodyHash(Data())))
    }

    @Test func mustRejectSignatureFails() throws {
        let vectors = try CryptoVectors.load()
        let reject = vectors.mustReject
        let device = try #require(vectors.devices.first { $0.uuid == reject.forDeviceUuid })
        let key = try DevicePublicKey(base64: device.publicKeyB64)
        let signature = try Data(vectorBase64: reject.wrongKeySignatureDerB64)
        let v1 = try Data(vectorHex: device.signatureV1.signedBytesHex)
        let v2 = try Data(vectorHex: device.signatureV2.canonicalHex)
        #expect(!RequestSigner.isValid(signatureDER: signature, for: v1, by: key))
        #expect(!RequestSigner.isValid(signatureDER: signature, for: v2, by: key))
    }

    @Test(arguments: vectors)
    func ffceBlobsOpenAndSealIdentically(device: CryptoVectors.Device) throws {
        let master = try MasterKey(bytes: Data(vectorHex: device.masterKeyHex))
        for (vector, purpose) in [(device.ffceBackup, KeyPurpose.backup), (device.ffceConfigfs, .configfs)] {
            let key = master.derive(purpose)
            let blob = try Data(vectorBase64: vector.blobB64)
            let plaintext = try Data(vectorBase64: vector.plaintextB64)
            #expect(try FFCEContainer.open(blob, using: key) == plaintext)
            let sealed = try FFCEContainer.seal(plaintext, using: key, nonce: Data(vectorHex: vector.gcmNonceHex))
            #expect(sealed == blob)
            if let tampered = vector.tamperedBlobB64 {
                #expect(throws: FFCEError.authenticationFailed) {
                    try FFCEContainer.open(Data(vectorBase64: tampered), using: key)
                }
            }
        }
    }

    @Test(arguments: vectors)
    func signerOutputVerifiesForBothVersions(device: CryptoVectors.Device) throws {
        let master = try MasterKey(bytes: Data(vectorHex: device.masterKeyHex))
        let uuid = try #require(DeviceUUID.parse(device.uuid))
        let key = try DevicePublicKey(base64: device.publicKeyB64)
        let body = Data("{\"a\":1}".utf8)
        for version in SignatureVersion.allCases {
            let headers = try RequestSigner.sign(
                master: master,
                uuid: uuid,
                version: version,
                method: "POST",
                path: "/devices/\(device.uuid)/backup",
                body: body,
                at: DeviceTimestamp(epochSeconds: 1_767_225_600)
            )
            let request = try SignedRequest(
                uuid: headers.uuid,
                nonce: headers.nonce,
                timestamp: headers.timestamp,
                signature: headers.signature,
                version: version == .v2 ? "2" : nil
            )
            #expect(request.isValid(for: key, method: "POST", path: "/devices/\(device.uuid)/backup", bodySHA256Hex: SigningInput.bodyHash(body)))
        }
    }
}

extension CryptoVectors.Device: CustomTestStringConvertible {
    public var testDescription: String { uuid }
}
