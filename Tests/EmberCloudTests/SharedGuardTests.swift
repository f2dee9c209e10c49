import Crypto
import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Nonces and failed attempts in the database, and what they buy: several instances behave as one.
struct SharedGuardTests {
    @Test(arguments: TestDatabase.all)
    func storeRecordsNoncesUntilTheyExpire(database: TestDatabase) async throws {
        try await database.withStore { (store: any Store) async throws in
            #expect(try await store.recordNonce(device: "d", nonce: "n1", expiresAt: 110, now: 100))
            #expect(try await !store.recordNonce(device: "d", nonce: "n1", expiresAt: 115, now: 105))
            #expect(try await store.recordNonce(device: "e", nonce: "n1", expiresAt: 115, now: 105))
            #expect(try await store.recordNonce(device: "d", nonce: "n1", expiresAt: 125, now: 111))  // expired: taken over
            try await store.purgeGuards(now: 200, failuresBefore: 0)
            #expect(try await store.recordNonce(device: "e", nonce: "n1", expiresAt: 215, now: 200))
        }
    }

    /// Concurrent nonces share write transactions on SQLite (group commit); each is still decided on its own.
    @Test(arguments: TestDatabase.all)
    func concurrentNoncesAreEachDecidedOnce(database: TestDatabase) async throws {
        try await database.withStore { (store: any Store) async throws in
            let results = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for index in 0..<200 {
                    let nonce = index < 100 ? "same" : "n\(index)"
                    group.addTask { (nonce, try await store.recordNonce(device: "d", nonce: nonce, expiresAt: 110, now: 100)) }
                }
                return try await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
            }
            #expect(results.filter { $0.0 == "same" && $0.1 }.count == 1, "one of 100 racing copies is fresh")
            #expect(results.filter { $0.0 != "same" }.allSatisfy { $0.1 }, "distinct nonces are all fresh")
            let again = try await store.recordNonce(device: "d", nonce: "n150", expiresAt: 115, now: 105)
            #expect(!again, "and stay recorded")
        }
    }

    @Test(arguments: TestDatabase.all)
    func storeReservesAttemptsUpToTheLimitAndReleasesThem(database: TestDatabase) async throws {
        try await database.withStore { (store: any Store) async throws in
            for (index, at) in ([100, 110, 120] as [Int64]).enumerated() {
                #expect(try await store.reserveRegistrationAttempt(client: "c", attempt: "a\(index)", at: at, since: at - 60, limit: 3) == .granted)
            }
            // Three in flight fill the limit: the next waits, it is not refused.
            #expect(try await store.reserveRegistrationAttempt(client: "c", attempt: "a3", at: 125, since: 65, limit: 3) == .busy)
            try await store.releaseRegistrationAttempt(attempt: "a0")
            #expect(try await store.reserveRegistrationAttempt(client: "c", attempt: "a4", at: 125, since: 65, limit: 3) == .granted)
            #expect(try await store.registrationFailures(client: "c", since: 0).count == 0, "attempts in flight are no failures")
            for attempt in ["a1", "a2", "a4"] { try await store.confirmRegistrationAttempt(attempt: attempt) }
            let refused = try await store.reserveRegistrationAttempt(client: "c", attempt: "a5", at: 126, since: 66, limit: 3)
            #expect(refused == .blocked(failures: 3, oldest: 110))
            let recent = try await store.registrationFailures(client: "c", since: 105)
            #expect(recent.count == 3 && recent.oldest == 110)
            #expect(try await store.registrationFailures(client: "other", since: 0).count == 0)
            try await store.purgeGuards(now: 200, failuresBefore: 115)
            #expect(try await store.registrationFailures(client: "c", since: 0).count == 2)
        }
    }

    /// Two registry instances on one PostgreSQL database, each with its own router.
    static func twoInstances(_ body: @Sendable (TestRegistry, any TestClientProtocol, any TestClientProtocol) async throws -> Void) async throws {
        for database in TestDatabase.all where database == .postgres {
            try await database.withStore { store in
                let clock = ManualClock()
                var configuration = RegistryConfiguration()
                configuration.keyEncryptionKey = SymmetricKey(size: .bits256)  // instances on one database share it
                let first = Registry(configuration: configuration, store: store, clock: clock)
                let second = Registry(configuration: configuration, store: store, clock: clock)
                let actor = AuditActor(actor: "test", client: "local")
                let admin = try await first.tokens.create(name: "admin", role: .admin, by: actor)
                let test = TestRegistry(registry: first, clock: clock, adminToken: admin, operatorToken: admin)
                try await Application(router: first.buildRouter(), logger: TestRegistry.logger).test(.router) { one in
                    try await Application(router: second.buildRouter(), logger: TestRegistry.logger).test(.router) { two in
                        try await body(test, one, two)
                    }
                }
            }
        }
    }

    @Test func aRequestReplayedToAnotherInstanceIsRefused() async throws {
        try await Self.twoInstances { test, one, two in
            let device = SimulatedDevice()
            #expect(try await one.register(device, key: try await one.mintKey(test.adminToken)).status == .noContent)
            let path = "/devices/\(DeviceUUID.format(device.uuid))/registration"
            let headers = try device.sign(method: "GET", path: path, at: test.now)
            #expect(try await one.checkRegistration(headers).status == .ok)
            let replay = try await two.checkRegistration(headers)
            #expect(replay.status == .unauthorized && replay.message == "Nonce already used")
        }
    }

    @Test func failedAttemptsCountAcrossInstances() async throws {
        try await Self.twoInstances { test, one, two in
            for attempt in 0..<10 {
                let client = attempt % 2 == 0 ? one : two
                #expect(try await client.register(SimulatedDevice(), key: "WRONG\(attempt)").status == .unauthorized)
            }
            let key = try await one.mintKey(test.adminToken)
            #expect(try await one.register(SimulatedDevice(), key: key).status == .tooManyRequests)
            #expect(try await two.register(SimulatedDevice(), key: key).status == .tooManyRequests)
            test.clock.advance(by: 61)
            #expect(try await two.register(SimulatedDevice(), key: key).status == .noContent)
        }
    }

    @Test func concurrentWrongKeysOnTwoInstancesAreJudgedAtMostTenTimes() async throws {
        try await Self.twoInstances { _, one, two in
            let statuses = try await RegistrationRouteTests.concurrentWrongKeys(500, clients: [one, two])
            #expect(statuses.filter { $0 == 401 }.count <= 10)
            #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 })
        }
    }

    @Test func racingRegistrationsOnTwoInstancesMakeOneDevice() async throws {
        try await Self.twoInstances { test, one, two in
            let key = try await one.mintKey(test.adminToken)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<50 {
                    let client = index % 2 == 0 ? one : two
                    group.addTask { Int(try await client.register(SimulatedDevice(), key: key).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 204 }.count == 1)
            #expect(statuses.allSatisfy { $0 == 204 || $0 == 401 || $0 == 429 })
            #expect(try await test.store.devices(limit: 100, after: nil, filter: DeviceFilter()).count == 1)
        }
    }
}
