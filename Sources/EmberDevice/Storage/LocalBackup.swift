import EmberCore
import Foundation

/// `/backup.json` on the config partition and its ETag sidecar `/backup.etag` (64 lower-case hex, the SHA-256 of
/// the file). Both are replaced atomically; `repair()` makes the sidecar agree with the file after a crash
/// between the two writes.
public struct LocalBackup: Sendable {
    static let file = "backup.json"
    static let sidecar = "backup.etag"

    let partition: ConfigPartition

    /// The local backup of `partition`.
    public init(partition: ConfigPartition) {
        self.partition = partition
    }

    /// Whether `/backup.json` exists.
    public var exists: Bool { partition.exists(Self.file) }

    /// The file and its ETag; nil when there is no file.
    public func read() throws(HardwareError) -> (data: Data, etag: String)? {
        guard let data = try partition.read(Self.file) else { return nil }
        return (data, etag() ?? BackupETag.of(data))
    }

    /// The sidecar's ETag; nil when there is none.
    public func etag() -> String? {
        guard let data = try? partition.read(Self.sidecar) else { return nil }
        return BackupETag.parse(String(decoding: data, as: UTF8.self))
    }

    /// Replaces the file, then the sidecar.
    public func write(_ data: Data) throws(HardwareError) {
        try partition.write(Self.file, data)
        try partition.write(Self.sidecar, Data(BackupETag.of(data).utf8))
    }

    /// Removes the file and the sidecar; false when there was no file.
    @discardableResult
    public func delete() throws(HardwareError) -> Bool {
        let existed = exists
        try partition.remove(Self.file)
        try partition.remove(Self.sidecar)
        return existed
    }

    /// At boot: a sidecar without a file goes; a missing or stale sidecar is recomputed; temporary files of an
    /// interrupted write go.
    public func repair() {
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: partition.folder.path)) ?? []
        for name in leftovers where name.hasPrefix(".\(Self.file).tmp-") || name.hasPrefix(".\(Self.sidecar).tmp-") {
            try? partition.remove(name)
        }
        guard let data = try? partition.read(Self.file) else {
            try? partition.remove(Self.sidecar)
            return
        }
        let actual = BackupETag.of(data)
        if etag() != actual { try? partition.write(Self.sidecar, Data(actual.utf8)) }
    }
}
