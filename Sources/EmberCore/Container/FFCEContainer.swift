import Crypto
import Foundation

/// The FireFly encrypted container: `"FFCE"` | 0x01 | 12-byte nonce | uint32 LE length | 16-byte tag | ciphertext.
///
/// AES-256-GCM with no associated data; the tag is stored before the ciphertext.
public enum FFCEContainer {
    /// The four magic bytes, ASCII `FFCE`.
    public static let magic: [UInt8] = Array("FFCE".utf8)
    /// The only version defined.
    public static let version: UInt8 = 0x01
    /// Header length: magic 4 + version 1 + nonce 12 + length 4 + tag 16.
    public static let headerLength = 37

    /// The header fields of a structurally valid blob (magic, version and length checked; the tag is not).
    public struct Header: Sendable, Equatable {
        public let nonce: Data
        public let plaintextLength: UInt32
        public let tag: Data
    }

    /// Checks the structure without a key: what the cloud can check of a blob it cannot decrypt.
    public static func header<Bytes: DataProtocol>(of blob: Bytes) throws(FFCEError) -> Header where Bytes.Index == Int {
        let blob = Data(blob)
        guard blob.count >= headerLength else { throw .tooShort(blob.count) }
        let start = blob.startIndex
        guard blob[start..<start + 4].elementsEqual(magic) else { throw .badMagic }
        let version = blob[start + 4]
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let lengthBytes = blob[start + 17..<start + 21]
        let declared = lengthBytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let actual = blob.count - headerLength
        guard Int(declared) == actual else { throw .lengthMismatch(declared: declared, actual: actual) }
        return Header(nonce: Data(blob[start + 5..<start + 17]), plaintextLength: declared, tag: Data(blob[start + 21..<start + 37]))
    }

    /// Encrypts `plaintext` under `key`; `nonce` is for test vectors only — by default a fresh random one is used.
    public static func seal(_ plaintext: Data, using key: SymmetricKey, nonce: Data? = nil) throws -> Data {
        guard plaintext.count <= Int(UInt32.max) else { throw FFCEError.plaintextTooLarge(plaintext.count) }
        let gcmNonce = try nonce.map { try AES.GCM.Nonce(data: $0) } ?? AES.GCM.Nonce()
        let box = try AES.GCM.seal(plaintext, using: key, nonce: gcmNonce)
        var blob = Data(capacity: headerLength + plaintext.count)
        blob.append(contentsOf: magic)
        blob.append(version)
        blob.append(contentsOf: gcmNonce)
        let length = UInt32(plaintext.count)
        blob.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)])
        blob.append(box.tag)
        blob.append(box.ciphertext)
        return blob
    }

    /// Decrypts a blob; every structural fault and a failed tag each give their own `FFCEError`.
    public static func open(_ blob: Data, using key: SymmetricKey) throws(FFCEError) -> Data {
        let header = try header(of: blob)
        let ciphertext = blob.dropFirst(headerLength)
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: header.nonce), ciphertext: ciphertext, tag: header.tag)
            return try AES.GCM.open(box, using: key)
        } catch {
            throw .authenticationFailed
        }
    }
}
