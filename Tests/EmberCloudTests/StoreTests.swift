import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import EmberCloud

/// The store's own guarantees: migrations, protective triggers, atomic key spending.
struct StoreTests {
    static func register(
        _ store: any Store,
        _ device: SimulatedDevice = SimulatedDevice(),
        key: String = "KEY001",
        now: Int64 = 1_767_225_600
    )
        async throws -> RegistrationOutcome
    {
        let audit = AuditEvent(at: now, by: AuditActor(actor: "test", client: "local"), action: "key.minted", subject: key)
        _ = try await store.insertRegistrationKey(
            RegistrationKeyRecord(key: key, sealed: "", createdBy: "test", generatedAt: now, expiresAt: now + 1_800),
            audit: audit
        )
        return try await store.register(
            try device.registrationBody().validated(),
            key: .plain(key),
            now: now,
            by: AuditActor(actor: "d", client: "c")
        )
    }

    @Test(arguments: TestDatabase.all)
    func migrationsAreRecordedAndIdempotent(database: TestDatabase) async throws {
        try await database.withStore { store in
            let sql = try #require(store as? SQLStore)
            #expect(try await Migrator(provider: sql.provider).migrate(now: 0) == [])
            let rows = try await sql.provider.read { db in try await db.raw("SELECT version, name FROM schema_migrations").all() }
            #expect(rows.count == Migrations.latest)
            #expect(try rows.first?.decode(column: "name", as: String.self) == "initial")
            let status = try await store.migrationStatus()
            #expect(status.count == Migrations.latest && status.allSatisfy { $0.appliedAt != nil })
        }
    }

    @Test(arguments: TestDatabase.all)
    func aSchemaNewerThanThisBuildIsRefused(database: TestDatabase) async throws {
        try await database.withStore { store in
            let sql = try #require(store as? SQLStore)
            try await sql.provider.transaction { db in
                try await db.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run()
            }
            await #expect(throws: StoreError.schemaTooNew(found: 999, known: Migrations.latest)) { try await store.migrate(now: 0) }
            #expect(try await store.migrationStatus().last?.name == "future (unknown to this build)")
        }
    }

    @Test(arguments: TestDatabase.all)
    func databaseRefusesToChangeARegistrationDate(database: TestDatabase) async throws {
        try await database.withStore { store in
            let device = SimulatedDevice()
            #expect(try await Self.register(store, device) == .registered)
            let sql = try #require(store as? SQLStore)
            let uuid = DeviceUUID.format(device.uuid)
            await #expect(throws: (any Error).self) {
                try await sql.provider.transaction { db in
                    try await db.raw("UPDATE devices SET registration_date = 1 WHERE uuid = \(bind: uuid)").run()
                }
            }
            await #expect(throws: (any Error).self) {
                try await sql.provider.transaction { db in try await db.raw("DELETE FROM devices WHERE uuid = \(bind: uuid)").run() }
            }
            #expect(try await store.device(uuid: uuid)?.registrationDate == 1_767_225_600)
            // decommissioned_at is set once, then never changed or cleared.
            try await sql.provider.transaction { db in
                try await db.raw("UPDATE devices SET decommissioned_at = 5 WHERE uuid = \(bind: uuid)").run()
            }
            #expect(try await store.deviceCredential(uuid: uuid)?.decommissioned == true)
            for change in ["decommissioned_at = 6", "decommissioned_at = NULL"] {
                await #expect(throws: (any Error).self, "\(change) is refused") {
                    try await sql.provider.transaction { db in
                        try await db.raw("UPDATE devices SET \(unsafeRaw: change) WHERE uuid = \(bind: uuid)").run()
                    }
                }
            }
            #expect(try await store.device(uuid: uuid)?.decommissionedAt == 5)
        }
    }

    @Test(arguments: TestDatabase.all)
    func racingSpendsOfOneKeyMakeOneDevice(database: TestDatabase) async throws {
        try await database.withStore { store in
            let now: Int64 = 1_767_225_600
            _ = try await store.insertRegistrationKey(
                RegistrationKeyRecord(key: "RACE01", sealed: "", createdBy: "test", generatedAt: now, expiresAt: now + 60),
                audit: AuditEvent(at: now, by: AuditActor(actor: "t", client: "c"), action: "key.minted", subject: "RA****")
            )
            let outcomes = try await withThrowingTaskGroup(of: RegistrationOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.register(
                            try SimulatedDevice().registrationBody().validated(),
                            key: .plain("RACE01"),
                            now: now,
                            by: AuditActor(actor: "d", client: "c")
                        )
                    }
                }
                return try await group.reduce(into: [RegistrationOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .registered }.count == 1)
            #expect(outcomes.filter { $0 == .invalidKey }.count == 19)
        }
    }

    /// First-v2 marks ride their nonces' commits: every device is marked once, a device marked before keeps its time,
    /// and a replayed nonce marks nothing.
    @Test(arguments: TestDatabase.all)
    func concurrentV2MarksKeepEachDevicesFirstTime(database: TestDatabase) async throws {
        try await database.withStore { store in
            let now: Int64 = 1_767_225_600
            var uuids: [String] = []
            for index in 0..<20 {
                let key = String(format: "V2M%03d", index)
                _ = try await store.insertRegistrationKey(
                    RegistrationKeyRecord(key: key, sealed: "", createdBy: "test", generatedAt: now, expiresAt: now + 60),
                    audit: AuditEvent(at: now, by: AuditActor(actor: "t", client: "c"), action: "key.minted", subject: "V2****")
                )
                let registration = try SimulatedDevice().registrationBody().validated()
                #expect(try await store.register(registration, key: .plain(key), now: now, by: AuditActor(actor: "d", client: "c")) == .registered)
                uuids.append(DeviceUUID.format(registration.uuid))
            }
            #expect(try await store.recordNonce(device: uuids[0], nonce: "early", expiresAt: now, now: now - 100, marksSignsV2: true))
            // A replay marks nothing, even the device's first.
            #expect(try await store.recordNonce(device: uuids[1], nonce: "seen", expiresAt: now + 60, now: now, marksSignsV2: false))
            #expect(try await !store.recordNonce(device: uuids[1], nonce: "seen", expiresAt: now + 60, now: now, marksSignsV2: true))
            #expect(try await store.deviceCredential(uuid: uuids[1], countingOpenActions: false)?.signsV2Since == nil)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for uuid in uuids {
                    for offset in [3, 1, 2] as [Int64] {
                        group.addTask {
                            try await store.recordNonce(device: uuid, nonce: "n\(offset)", expiresAt: now + 60, now: now + offset, marksSignsV2: true)
                        }
                    }
                    // Nonces that mark nothing, in the same batches.
                    group.addTask { try await store.recordNonce(device: uuid, nonce: "plain", expiresAt: now + 60, now: now) }
                }
                for try await fresh in group { #expect(fresh) }
            }
            for (index, uuid) in uuids.enumerated() {
                let since = try await store.deviceCredential(uuid: uuid, countingOpenActions: false)?.signsV2Since
                if index == 0 {
                    #expect(since == now - 100, "marked before: keeps its time")
                } else {
                    // The three marks of a device may land in one batch or in several: the first recorded stays.
                    #expect(since.map { (now + 1)...(now + 3) ~= $0 } == true, "\(uuid): \(String(describing: since))")
                }
            }
        }
    }

    /// Concurrent registrations share transactions on SQLite (group commit); each is still decided on its own: one
    /// device per key, one key per device, the same device again is already registered, an expired key spends nothing.
    @Test(arguments: TestDatabase.all)
    func concurrentMixedRegistrationsAreEachDecidedOnce(database: TestDatabase) async throws {
        try await database.withStore { store in
            let now: Int64 = 1_767_225_600
            let keys = (0..<60).map { String(format: "MIX%03d", $0) }
            for (index, key) in keys.enumerated() {
                _ = try await store.insertRegistrationKey(
                    RegistrationKeyRecord(key: key, sealed: "", createdBy: "test", generatedAt: now, expiresAt: now + (index == 59 ? 0 : 60)),
                    audit: AuditEvent(at: now, by: AuditActor(actor: "t", client: "c"), action: "key.minted", subject: "MI****")
                )
            }
            let twin = SimulatedDevice()
            // 40 devices with their own keys; 10 devices racing for key 40; the twin with keys 41…45 (and again with 41);
            // a device with the expired key 59.
            var attempts: [(DeviceRegistration, String)] = []
            for index in 0..<40 { attempts.append((try SimulatedDevice().registrationBody().validated(), keys[index])) }
            for _ in 0..<10 { attempts.append((try SimulatedDevice().registrationBody().validated(), keys[40])) }
            for index in [41, 42, 43, 44, 45, 41] { attempts.append((try twin.registrationBody().validated(), keys[index])) }
            attempts.append((try SimulatedDevice().registrationBody().validated(), keys[59]))
            let outcomes = try await withThrowingTaskGroup(of: (Int, RegistrationOutcome).self) { group in
                for (index, (registration, key)) in attempts.enumerated() {
                    group.addTask {
                        (index, try await store.register(registration, key: .plain(key), now: now, by: AuditActor(actor: "d", client: "c")))
                    }
                }
                return try await group.reduce(into: [Int: RegistrationOutcome]()) { $0[$1.0] = $1.1 }
            }
            #expect((0..<40).allSatisfy { outcomes[$0] == .registered }, "own keys all register")
            #expect((40..<50).filter { outcomes[$0] == .registered }.count == 1, "one device per key")
            #expect((40..<50).filter { outcomes[$0] == .invalidKey }.count == 9)
            let twins = (50..<56).compactMap { outcomes[$0] }
            #expect(twins.filter { $0 == .registered }.count == 1, "one key spent by the twin: \(twins)")
            #expect(twins.allSatisfy { $0 == .registered || $0 == .alreadyRegistered }, "\(twins)")
            #expect(outcomes[56] == .invalidKey, "expired")
            #expect(try await store.registrationKey(keys[59])?.spentAt == nil)
            let spent = try await (41...45).asyncCount { try await store.registrationKey(keys[$0])?.spentAt != nil }
            #expect(spent == 1, "the twin's other keys stay unspent")
            let audit = try await store.auditEntries(AuditQuery(limit: 200, action: "device.registered"))
            #expect(audit.count == 42, "one audit row per stored device")
        }
    }

    @Test(arguments: TestDatabase.all)
    func anExpiredKeyIsNotSpent(database: TestDatabase) async throws {
        try await database.withStore { store in
            let now: Int64 = 1_767_225_600
            _ = try await store.insertRegistrationKey(
                RegistrationKeyRecord(key: "OLD001", sealed: "", createdBy: "t", generatedAt: now, expiresAt: now + 10),
                audit: AuditEvent(at: now, by: AuditActor(actor: "t", client: "c"), action: "key.minted", subject: "OL****")
            )
            let outcome = try await store.register(
                try SimulatedDevice().registrationBody().validated(),
                key: .plain("OLD001"),
                now: now + 10,
                by: AuditActor(actor: "d", client: "c")
            )
            #expect(outcome == .invalidKey)
            #expect(try await store.registrationKey("OLD001")?.spentAt == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aFailedTransactionLeavesNothingBehind(database: TestDatabase) async throws {
        try await database.withStore { store in
            let sql = try #require(store as? SQLStore)
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await sql.provider.transaction { db in
                    try await sql.insertAudit([AuditEvent(at: 1, by: AuditActor(actor: "a", client: "b"), action: "x", subject: "y")], on: db)
                    throw Boom()
                }
            }
            #expect(try await store.auditEntries(limit: 10, after: nil).isEmpty)
        }
    }
}

extension Sequence {
    /// How many elements satisfy an async predicate.
    fileprivate func asyncCount(_ predicate: (Element) async throws -> Bool) async rethrows -> Int {
        var count = 0
        for element in self where try await predicate(element) { count += 1 }
        return count
    }
}
