import EmberCore
import EmberFleet
import Foundation
import Synchronization
import Testing

@testable import EmberCloud

/// The credentials a server keeps between signed checks (SQLite, one server per file): every write is seen at once.
struct CredentialCacheTests {
    static let now: Int64 = 1_767_225_600
    static let actor = AuditActor(actor: "test", client: "local")

    /// A registered device's canonical UUID and the simulated device that holds its key.
    static func registerDevice(_ store: any Store, key: String) async throws -> (uuid: String, device: SimulatedDevice) {
        _ = try await store.insertRegistrationKey(
            RegistrationKeyRecord(key: key, sealed: "", createdBy: "test", generatedAt: now, expiresAt: now + 60),
            audit: AuditEvent(at: now, by: actor, action: "key.minted", subject: "CC****")
        )
        let device = SimulatedDevice()
        let registration = try device.registrationBody().validated()
        #expect(try await store.register(registration, key: .plain(key), now: now, by: actor) == .registered)
        return (DeviceUUID.format(registration.uuid), device)
    }

    @Test(arguments: TestDatabase.all)
    func everyWriteIsSeenByTheNextCheck(database: TestDatabase) async throws {
        try await database.withStore { store in
            let (uuid, _) = try await Self.registerDevice(store, key: "CCW001")
            let first = try #require(try await store.deviceCredential(uuid: uuid, countingOpenActions: true))
            #expect(first.hasOpenActions == false && first.signsV2Since == nil && first.keys.count == 1)
            if database == .sqlite { #expect((store as? SQLStore)?.cachedCredentials?.count == 1, "a server on SQLite keeps it") }
            #expect(try await store.deviceCredential(uuid: uuid, countingOpenActions: true) == first, "the kept credential is the read one")

            #expect(try await store.recordNonce(device: uuid, nonce: "first-v2", expiresAt: Self.now + 60, now: Self.now + 1, marksSignsV2: true))
            #expect(try await store.deviceCredential(uuid: uuid, countingOpenActions: false)?.signsV2Since == Self.now + 1)

            let pending = try SimulatedDevice().master.publicKey().base64
            #expect(
                try await store.submitKey(
                    uuid: uuid,
                    epoch: 1,
                    publicKey: pending,
                    now: Self.now,
                    audit: AuditEvent(at: Self.now, by: Self.actor, action: "key.submitted", subject: uuid)
                ) == .created
            )
            #expect(try await store.deviceCredential(uuid: uuid, countingOpenActions: false)?.keys.map(\.pending) == [false, true])
            #expect(try await store.promoteKey(uuid: uuid, epoch: 1, publicKey: pending, now: Self.now))
            #expect(
                try await store.deviceCredential(uuid: uuid, countingOpenActions: false)?.keys.map(\.publicKey) == [pending],
                "the retired key is gone"
            )

            _ = try await store.createAction(uuid: uuid, type: .decommission, reason: "retired", config: nil, now: Self.now, by: Self.actor)
            let after = try #require(try await store.deviceCredential(uuid: uuid, countingOpenActions: true))
            #expect(after.decommissioned && after.hasOpenActions == true, "decommissioned at once, with its action waiting")
        }
    }

    /// What a device reports at check-in is not part of its credential: the flush keeps the cache, and the next write
    /// that changes the credential still counts at once.
    @Test(arguments: TestDatabase.all)
    func checkInsKeepTheCredentialsAndActionsStillCount(database: TestDatabase) async throws {
        try await database.withStore { store in
            let (uuid, _) = try await Self.registerDevice(store, key: "CCK001")
            let before = try #require(try await store.deviceCredential(uuid: uuid, countingOpenActions: true))
            let report = CheckInReport(firmwareVersion: "2.0.1", configVersion: 3, configHash: "ab", state: "running", uptimeS: 60)
            try await store.recordCheckIns([uuid: LastCheckIn(at: Self.now + 5, report: report)])
            if database == .sqlite { #expect((store as? SQLStore)?.cachedCredentials?.count == 1, "a check-in flush keeps the cache") }
            #expect(try await store.deviceCredential(uuid: uuid, countingOpenActions: true) == before)
            _ = try await store.createAction(uuid: uuid, type: .decommission, reason: "retired", config: nil, now: Self.now, by: Self.actor)
            let after = try #require(try await store.deviceCredential(uuid: uuid, countingOpenActions: true))
            #expect(after.decommissioned && after.hasOpenActions == true)
        }
    }

    /// Reads racing a write: once the write has returned, no check sees what was there before it.
    @Test(arguments: TestDatabase.all)
    func aWriteIsSeenByEveryCheckThatStartsAfterIt(database: TestDatabase) async throws {
        try await database.withStore { store in
            let (uuid, _) = try await Self.registerDevice(store, key: "CCR001")
            try await withThrowingTaskGroup(of: Bool.self) { group in
                let decommissioned = ManagedFlag()
                for index in 0..<400 {
                    if index == 200 {
                        _ = try await store.createAction(uuid: uuid, type: .decommission, reason: "race", config: nil, now: Self.now, by: Self.actor)
                        decommissioned.set()
                    }
                    let startedAfter = decommissioned.isSet
                    group.addTask {
                        let seen = try await store.deviceCredential(uuid: uuid, countingOpenActions: false)?.decommissioned == true
                        return !startedAfter || seen
                    }
                }
                for try await consistent in group { #expect(consistent, "a check begun after the decommission saw the device in service") }
            }
        }
    }

    @Test func keptEntriesStartOverWhenFull() {
        var map = BoundedMap<String, Int>(capacity: 2)
        map.set("a", 1)
        map.set("b", 2)
        map.set("a", 3)
        #expect(map.count == 2 && map["a"] == 3, "a known key is replaced in place")
        map.set("c", 4)
        #expect(map.count == 1 && map["c"] == 4 && map["a"] == nil)
    }

    /// One server per SQLite file: the second is refused with what to do, the admin commands still open the file.
    @Test func aSecondServerOnOneSQLiteFileIsRefused() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-lock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("ember.sqlite").path
        let server = try await SQLiteProvider.open(path: path, exclusive: true, logger: TestRegistry.logger)
        #expect(server.exclusive)
        do {
            _ = try await SQLiteProvider.open(path: path, exclusive: true, logger: TestRegistry.logger)
            Issue.record("a second server opened the file")
        } catch let error as StoreError {
            #expect("\(error)".contains("another ember serve is using \(path)") && "\(error)".contains("one server per SQLite file"), "\(error)")
        }
        let admin = try await SQLiteProvider.open(path: path, logger: TestRegistry.logger)
        #expect(!admin.exclusive && SQLStore(provider: admin).cachedCredentials == nil, "an admin command keeps nothing")
        try await admin.close()
        #expect(try DataFilePermissionTests.mode(path + ".lock") == 0o600)
        try await server.close()
        // Closed, the lock is free; a process this test run spawns at that moment holds a copy of the descriptor until
        // it execs, so the next server may need a few tries.
        var next: SQLiteProvider?
        for _ in 0..<50 where next == nil {
            next = try? await SQLiteProvider.open(path: path, exclusive: true, logger: TestRegistry.logger)
            if next == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(next != nil, "the lock was not released by close")
        try await next?.close()
    }
}

/// A flag set once, read from tasks.
final class ManagedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
