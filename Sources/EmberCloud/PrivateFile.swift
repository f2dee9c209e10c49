import CoreFoundation
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files only their owner may read (mode 0600): the key-encryption key, the device CA, onboarding keys.
public enum PrivateFile {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Writes `contents` to `path` unless the file exists (false then), never half: the text goes to a temporary
    /// file, is synced, then linked into place, so a reader — another instance starting at the same moment —
    /// sees the whole file or none. The folder is created 0700 when missing.
    @discardableResult
    public static func create(_ path: String, contents: String) throws(Failure) -> Bool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: folder.path) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw Failure(description: "cannot create the folder \(folder.path): \(error.localizedDescription)")
            }
        }
        if FileManager.default.fileExists(atPath: path) { return false }
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        defer { unlink(temporary) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        if link(temporary, path) != 0 {
            if errno == EEXIST { return false }
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// The text of a private file: refused unless it is a regular file; made 0600 when others could read it.
    public static func read(_ path: String) throws(Failure) -> String {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "\(path) is not a regular file")
        }
        if status.st_mode & 0o077 != 0 && chmod(path, 0o600) != 0 {
            throw Failure(description: "cannot make \(path) private (chmod 600): \(String(cString: strerror(errno)))")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Failure(description: "cannot read \(path)") }
        return text
    }
}
