import Crypto
import Foundation

/// The exact bytes a device signs for each signature version.
public enum SigningInput {
    /// v1 (FireFly): the 32 nonce bytes followed by the ASCII timestamp.
    public static func v1(nonce: Data, timestamp: String) -> Data {
        var bytes = nonce
        bytes.append(contentsOf: timestamp.utf8)
        return bytes
    }

    /// v2 (Ember): UTF-8 of `FIREFLY-SIG-V2\n<METHOD>\n<path+query>\n<timestamp>\n<nonce b64>\n<hex sha256(body)>`.
    public static func v2(method: String, path: String, timestamp: String, nonceBase64: String, bodySHA256Hex: String) -> Data {
        Data("FIREFLY-SIG-V2\n\(method)\n\(path)\n\(timestamp)\n\(nonceBase64)\n\(bodySHA256Hex)".utf8)
    }

    /// The signed bytes of `version`; the body hash is computed only for v2.
    public static func message(
        _ version: SignatureVersion,
        nonce: Data,
        nonceBase64: String,
        timestamp: String,
        method: String,
        path: String,
        bodySHA256Hex: @autoclosure () -> String
    ) -> Data {
        switch version {
        case .v1: v1(nonce: nonce, timestamp: timestamp)
        case .v2: v2(method: method, path: path, timestamp: timestamp, nonceBase64: nonceBase64, bodySHA256Hex: bodySHA256Hex())
        }
    }

    /// Lower-case hex SHA-256 of a request body.
    public static func bodyHash<Bytes: DataProtocol>(_ body: Bytes) -> String {
        Hex.encode(SHA256.hash(data: body))
    }
}
