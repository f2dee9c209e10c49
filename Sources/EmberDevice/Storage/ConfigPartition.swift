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
    /// (the rename is atomic), not necessarily a power loss — for logs written on every event.
    public func write(_ name: String, _ data: Data, durable: Bool = true) throws(HardwareError) {
        try AtomicFile.write(data, to: url(name), durable: durable)
    }

    /// Removes a file; a missing file is not an error.
    public func remove(_ name: String) throws(HardwareError) {
        guard unlink(url(name).path) == 0 || errno == ENOENT else {
            throw .storage("cannot remove \(name) on the config partition: \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncFolder(folder)
    }

    /// The path of a file.
    public func url(_ name: String) -> URL {
        folder.appendingPathComponent(name)
    }
}
