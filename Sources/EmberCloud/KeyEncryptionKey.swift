import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where the registry's key-encryption key comes from: `EMBER_KEY_ENCRYPTION_KEY` (Base64 of 32 bytes), else a
/// 0600 file, created with a random key on first start. It stays outside the database, so a copy of the database
/// alone opens no registration key.
public enum KeyEncryptionKey {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The default file: beside a SQLite database; `./ember-data/` for PostgreSQL.
    public static func defaultFile(database: String) -> String {
        if database.hasPrefix("sqlite:") {
            var path = String(database.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("key-encryption.key").path
        }
        return "./ember-data/key-encryption.key"
    }

    /// The key `value` encodes, or the one in `file` (created when missing).
    public static func load(value: String?, file: String) throws -> SymmetricKey {
        if let value { return try decode(value, origin: "EMBER_KEY_ENCRYPTION_KEY") }
        let url = URL(fileURLWithPath: file)
        let folder = url.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let descriptor = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            defer { close(descriptor) }
            let text = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
            let written = text.withCString { write(descriptor, $0, strlen($0)) }
            guard written == text.utf8.count, fsync(descriptor) == 0 else {
                unlink(file)
                throw Failure(description: "cannot write the key-encryption key to \(file): \(String(cString: strerror(errno)))")
            }
        } else if errno != EEXIST {
            throw Failure(description: "cannot create the key-encryption key file \(file): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard lstat(file, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "the key-encryption key file \(file) is not a regular file")
        }
        if status.st_mode & 0o077 != 0 && chmod(file, 0o600) != 0 {
            throw Failure(description: "cannot make \(file) private (chmod 600): \(String(cString: strerror(errno)))")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw Failure(description: "cannot read the key-encryption key file \(file)")
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
