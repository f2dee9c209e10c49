import Foundation
import Logging
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded database: one SQLite file in WAL mode, one writer connection behind a gate, a few reader connections.
///
/// Readers on their own connections see only committed transactions, so a read never observes a
/// registration that is about to roll back.
public final class SQLiteProvider: DatabaseProvider {
    public let dialect = SQLDialectKind.sqlite
    public let location: String
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let gate = AsyncGate()
    private let nextReader = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    /// The lock file's descriptor while this process owns the database (see `open`); -1 otherwise.
    private let lock: Int32
    public var exclusive: Bool { lock >= 0 }

    /// Opens (creating if needed) the database file and its folder. The database holds live registration keys and
    /// token hashes, so a folder Ember creates is 0700 and the file 0600; SQLite gives its `-wal` and `-shm` files
    /// the database file's mode. `exclusive` (for `ember serve`) takes the lock file `PATH.lock` first, so a second
    /// server on the same file is refused instead of serving from a stale memory of the first one's writes; the
    /// admin commands open the file without it.
    public static func open(path: String, readers readerCount: Int = 2, exclusive: Bool = false, logger: Logger) async throws -> SQLiteProvider {
        let url = URL(fileURLWithPath: path)
        try restrictAccess(to: url, logger: logger)
        let lock = exclusive ? try takeLock(for: url) : -1
        let writer: SQLiteConnection
        do { writer = try await SQLiteConnection.open(storage: .file(path: url.path), logger: logger) } catch {
            if lock >= 0 { Glibc.close(lock) }
            throw error
        }
        do {
            // A 32 MiB page cache for the one writer and checkpoints every 32 MiB of WAL instead of SQLite's 2 MiB
            // and 4 MiB: a large registry's inserts land on random index pages, and each checkpoint (an fsync on the
            // writer's path) then copies a page written by several commits once. Statement journals (a multi-row statement's
            // undo) stay in memory.
            for pragma in [
                "PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=10000", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                "PRAGMA cache_size=-32768", "PRAGMA wal_autocheckpoint=8192", "PRAGMA temp_store=MEMORY",
            ] {
                try await writer.sql(queryLogLevel: nil).raw(SQLQueryString(pragma)).run()
            }
            var readers: [SQLiteConnection] = []
            for _ in 0..<max(1, readerCount) {
                let reader = try await SQLiteConnection.open(storage: .file(path: url.path), logger: logger)
                for pragma in ["PRAGMA busy_timeout=10000", "PRAGMA cache_size=-8192"] {
                    try await reader.sql(queryLogLevel: nil).raw(SQLQueryString(pragma)).run()
                }
                readers.append(reader)
            }
            return SQLiteProvider(location: "sqlite:" + url.path, writer: writer, readers: readers, lock: lock)
        } catch {
            try? await writer.close()
            if lock >= 0 { Glibc.close(lock) }
            throw error
        }
    }

    /// Holds `PATH.lock` (0600) with `flock` until the provider closes or the process ends; refuses when another
    /// process holds it. A separate file, because closing any descriptor of the database itself would drop SQLite's
    /// own locks.
    static func takeLock(for url: URL) throws -> Int32 {
        let path = url.path + ".lock"
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError.unsupportedDatabase("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            Glibc.close(descriptor)
            if reason == EWOULDBLOCK {
                throw StoreError.unsupportedDatabase(
                    "another ember serve is using \(url.path) (it holds \(path)): run one server per SQLite file, or share a PostgreSQL database"
                )
            }
            throw StoreError.unsupportedDatabase("cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        return descriptor
    }

    /// Creates the folder 0700 when missing and the database file 0600 (an empty file is a new database to
    /// SQLite); an existing file and its `-wal`/`-shm` files are set to 0600. An existing folder others can read
    /// is left as it is (it may be the operator's) and logged.
    static func restrictAccess(to url: URL, logger: Logger) throws {
        let folder = url.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } else if let mode = (try? FileManager.default.attributesOfItem(atPath: folder.path))?[.posixPermissions] as? Int, mode & 0o077 != 0,
            mode & 0o1000 == 0  // a sticky folder such as /tmp is shared by design
        {
            logger.warning(
                "the data folder is readable by other users; Ember keeps its files 0600, but `chmod 700` the folder",
                metadata: ["ember.folder": "\(folder.path)", "ember.mode": "\(String(mode, radix: 8))"]
            )
        }
        let descriptor = Glibc.open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            Glibc.close(descriptor)
        } else if errno != EEXIST {
            throw StoreError.unsupportedDatabase("cannot create the database file \(url.path): \(String(cString: strerror(errno)))")
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = url.path + suffix
            if FileManager.default.fileExists(atPath: file) && chmod(file, 0o600) != 0 {
                throw StoreError.unsupportedDatabase("cannot make \(file) private (chmod 600): \(String(cString: strerror(errno)))")
            }
        }
    }

    private init(location: String, writer: SQLiteConnection, readers: [SQLiteConnection], lock: Int32) {
        self.lock = lock
        self.location = location
        self.writer = writer
        self.readers = readers
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(readers[abs(index % readers.count)].sql(queryLogLevel: nil))
    }

    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = writer.sql(queryLogLevel: nil)
        return try await gate.withGate { try await body(database) }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = writer.sql(queryLogLevel: nil)
        return try await gate.withGate {
            try await database.raw("BEGIN IMMEDIATE").run()
            do {
                let value = try await body(database)
                try await database.raw("COMMIT").run()
                return value
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func close() async throws {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        defer { if lock >= 0 { Glibc.close(lock) } }
        for reader in readers { try await reader.close() }
        try await writer.close()
    }
}
