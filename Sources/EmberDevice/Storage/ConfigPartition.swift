import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The config partition (FireFly's `/configFS`): a folder of small files. Every write is atomic — a temporary
/// file, fsync, rename, fsync of the folder — so after a crash a file is either the old one or the new one.
public struct ConfigPartition: Sendable {
    /// The folder that holds the files.
    public let folder: URL

    /// The partition in `folder`, created if missing.
    public init(folder: URL) throws(HardwareError) {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create the config partition \(folder.path): \(error.localizedDescription)")
        }
        self.folder = folder
    }

    /// A file's contents; nil when it does not exist.
    public func read(_ name: String) throws(HardwareError) -> Data? {
        let url = self.url(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw .storage("cannot read \(name) on the config partition: \(error.localizedDescription)")
        }
    }

    /// Whether a file exists.
    public func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: url(name).path)
    }

    /// Replaces a file atomically. `durable: false` skips the fsyncs: the file still survives a crash of the process
    /// (the rename is atomic), not necessarily a power loss — for logs written on every event. `beforeRename` runs
    /// with the new contents complete in the temporary file.
    public func write(_ name: String, _ data: Data, durable: Bool = true, beforeRename: () -> Void = {}) throws(HardwareError) {
        try AtomicFile.write(data, to: url(name), durable: durable, beforeRename: beforeRename)
    }

    /// Removes a file; a missing file is not an error.
    public func remove(_ name: String) throws(HardwareError) {
        guard unlink(url(name).path) == 0 || errno == ENOENT else {
            throw .storage("cannot remove \(name) on the config partition: \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncFolder(folder)
    }

    /// Renames a file over another atomically, durably.
    public func rename(_ name: String, to target: String) throws(HardwareError) {
        guard Glibc.rename(url(name).path, url(target).path) == 0 else {
            throw .storage("cannot rename \(name) to \(target) on the config partition: \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncFolder(folder)
    }

    /// The names of the files on the partition (leftover temporary files included).
    public func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    /// Overwrites a file's bytes with zeros and fsyncs them before unlinking it, so the old contents do not stay
    /// readable in the freed blocks of a simple flash file system; then fsyncs the folder.
    public func securelyRemove(_ name: String) throws(HardwareError) {
        let path = url(name).path
        let descriptor = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        if descriptor >= 0 {
            var size = lseek(descriptor, 0, SEEK_END)
            lseek(descriptor, 0, SEEK_SET)
            let zeros = [UInt8](repeating: 0, count: 4_096)
            var failed = false
            while size > 0 && !failed {
                let count = zeros.withUnsafeBytes { POSIX.write(descriptor, $0.baseAddress, min(Int(size), $0.count)) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { failed = true } else { size -= off_t(count) }
            }
            let synced = fsync(descriptor) == 0
            POSIX.close(descriptor)
            guard !failed, synced else { throw .storage("cannot overwrite \(name) on the config partition") }
        } else if errno != ENOENT {
            throw .storage("cannot open \(name) on the config partition: \(String(cString: strerror(errno)))")
        }
        try remove(name)
    }

    /// The path of a file.
    public func url(_ name: String) -> URL {
        folder.appendingPathComponent(name)
    }
}
