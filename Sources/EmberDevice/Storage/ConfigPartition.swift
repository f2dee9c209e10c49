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

/// Crash-safe whole-file writes.
enum AtomicFile {
    /// Writes `data` to a temporary file beside `url`, fsyncs it, renames it over `url` and fsyncs the folder
    /// (without the fsyncs when not `durable`).
    static func write(_ data: Data, to url: URL, durable: Bool = true) throws(HardwareError) {
        let temporary = temporaryURL(for: url)
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .storage("cannot create \(temporary.path): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return false }
                offset += count
            }
            return true
        }
        let synced = !durable || fsync(descriptor) == 0
        close(descriptor)
        guard written, synced else {
            unlink(temporary.path)
            throw .storage("cannot write \(url.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw .storage("cannot replace \(url.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        if durable { syncFolder(url.deletingLastPathComponent()) }
    }

    /// A fresh temporary name beside `url`; leftovers of a crash are ignored by readers.
    static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Makes a rename or unlink in `folder` durable.
    static func syncFolder(_ folder: URL) {
        let descriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
