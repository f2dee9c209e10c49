import SQLKit
import Synchronization

/// A dictionary of at most `capacity` entries that starts over when full: the bounded caches of the signed-check path.
struct BoundedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private(set) var entries: [Key: Value] = [:]
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    subscript(key: Key) -> Value? { entries[key] }

    /// Stores `value`; a new key in a full map empties it first (a fleet that checks each device once never hits, so
    /// keeping the oldest would buy nothing).
    mutating func set(_ key: Key, _ value: Value) {
        if entries.count >= capacity && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
        entries[key] = value
    }

    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    var count: Int { entries.count }
}

/// Device credentials held in memory while one process owns the database (SQLite under `ember serve`), so a device's
/// repeated signed checks skip the credential read.
///
/// Every write the store makes, except recording nonces and check-ins (`SQLStore.credentialNeutral`), empties the
/// cache once it has finished (`CacheInvalidatingProvider`), so no credential read before a write is used after it; a
/// read that overlapped a write is not kept, because the write's end moves the generation the read started in.
final class CredentialCache: Sendable {
    private struct State: Sendable {
        var generation: UInt64 = 0
        var credentials: BoundedMap<String, DeviceCredential>
    }

    private let state: Mutex<State>

    /// About 600 bytes a device: 32,768 hold about 20 MiB.
    init(capacity: Int = 32_768) {
        state = Mutex(State(credentials: BoundedMap(capacity: capacity)))
    }

    func credential(_ uuid: String) -> DeviceCredential? { state.withLock { $0.credentials[uuid] } }

    /// Where a read starts: its answers are kept only if no write finished before they came back.
    var generation: UInt64 { state.withLock { $0.generation } }

    func keep(_ found: [String: DeviceCredential], readIn generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            for (uuid, credential) in found { state.credentials.set(uuid, credential) }
        }
    }

    /// After a write: nothing read before it is used again.
    func invalidate() {
        state.withLock { state in
            state.generation &+= 1
            state.credentials.removeAll()
        }
    }

    var count: Int { state.withLock { $0.credentials.count } }
}

/// The store's database as every store method but the nonce batch sees it: each write and transaction empties the
/// credential cache when it ends, committed or not.
struct CacheInvalidatingProvider: DatabaseProvider {
    let base: any DatabaseProvider
    let cache: CredentialCache

    var dialect: SQLDialectKind { base.dialect }
    var location: String { base.location }
    var exclusive: Bool { base.exclusive }

    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await base.read(body)
    }

    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        defer { cache.invalidate() }
        return try await base.write(body)
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        defer { cache.invalidate() }
        return try await base.transaction(body)
    }

    func close() async throws { try await base.close() }
}
