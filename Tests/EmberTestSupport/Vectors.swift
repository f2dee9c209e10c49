import EmberCore
import Foundation

/// `shared/vectors/device-crypto.json`, decoded with keys that mirror the file.
public struct CryptoVectors: Decodable, Sendable {
    public struct Device: Decodable, Sendable {
        public let uuid: String
        public let masterKeyHex: String
        public let keyAuthHex: String
        public let keyBackupHex: String
        public let keyConfigfsHex: String
        public let publicKeyB64: String
        public let signatureV1: SignatureV1
        public let signatureV2: SignatureV2
        public let ffceBackup: FFCE
        public let ffceConfigfs: FFCE
    }

    public struct SignatureV1: Decodable, Sendable {
        public let nonceB64: String
        public let timestamp: String
        public let signedBytesHex: String
        public let signatureDerB64: String
    }

    public struct SignatureV2: Decodable, Sendable {
        public let method: String
        public let path: String
        public let timestamp: String
        public let nonceB64: String
        public let bodyB64: String
        public let canonicalHex: String
        public let signatureDerB64: String
    }

    public struct FFCE: Decodable, Sendable {
        public let gcmNonceHex: String
        public let plaintextB64: String
        public let blobB64: String
        public let tamperedBlobB64: String?
    }

    public struct MustReject: Decodable, Sendable {
        public let wrongKeySignatureDerB64: String
        public let forDeviceUuid: String
    }

    public let devices: [Device]
    public let mustReject: MustReject

    /// Loads the vectors from `Tests/Fixtures/vectors/device-crypto.json`.
    public static func load() throws -> CryptoVectors {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(CryptoVectors.self, from: Data(contentsOf: Fixtures.url("vectors/device-crypto.json")))
    }
}

/// A vector field that is not the hex or Base64 it should be.
public struct MalformedVector: Error, CustomStringConvertible {
    public let description: String
}

extension Data {
    /// Bytes of a hex string from a vector file.
    public init(vectorHex text: String) throws {
        guard let bytes = Hex.decode(text) else { throw MalformedVector(description: "not hex: \(text.prefix(20))") }
        self.init(bytes)
    }

    /// Bytes of standard Base64 from a vector file.
    public init(vectorBase64 text: String) throws {
        guard let data = Data(base64Encoded: text) else { throw MalformedVector(description: "not Base64: \(text.prefix(20))") }
        self = data
    }
}
