import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe whole-file writes.
enum AtomicFile {
    /// Writes `data` to a temporary file beside `url`, fsyncs it, renames it over `url` and fsyncs the folder
    /// (without the fsyncs when not `durable`). `beforeRename` runs with the new contents complete in the temporary
    /// file (a power-loss checkpoint).
    static func write(_ data: Data, to url: URL, durable: Bool = true, beforeRename: () -> Void = {}) throws(HardwareError) {
        let temporary = temporaryURL(for: url)
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .storage("cannot create \(temporary.path): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = POSIX.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
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
        beforeRename()
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
