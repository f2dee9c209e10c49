import Crypto
import Foundation

/// Where the registry's key-encryption key comes from: `EMBER_KEY_ENCRYPTION_KEY` (Base64 of 32 bytes), else a
/// 0600 file, created with a random key on first start. It stays outside the database, so a copy of the database
/// alone opens no registration key.
public enum KeyEncryptionKey {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The default file: `key-encryption.key` in the data folder.
    public static func defaultFile(database: String) -> String {
        DataFolder.file("key-encryption.key", database: database)
    }

    /// The key `value` encodes, or the one in `file` (created when missing).
    public static func load(value: String?, file: String) throws -> SymmetricKey {
        if let value { return try decode(value, origin: "EMBER_KEY_ENCRYPTION_KEY") }
        let text: String
        do {
            try PrivateFile.create(file, contents: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() } + "\n")
            text = try PrivateFile.read(file)
        } catch {
            throw Failure(description: "key-encryption key: \(error.description)")
        }
        return try decode(text.trimmingCharacters(in: .whitespacesAndNewlines), origin: file)
    }

    private static func decode(_ text: String, origin: String) throws -> SymmetricKey {
        guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
            throw Failure(description: "\(origin) must hold 32 bytes in Base64 (make one with `openssl rand -base64 32`)")
        }
        return SymmetricKey(data: bytes)
    }
}

/// Where the registry keeps its files beside the database: the SQLite database's folder; `./ember-data/` for
/// PostgreSQL.
public enum DataFolder {
    public static func file(_ name: String, database: String) -> String {
        if database.hasPrefix("sqlite:") {
            var path = String(database.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(name).path
        }
        return "./ember-data/\(name)"
    }
}
