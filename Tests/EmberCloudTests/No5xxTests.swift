import EmberClient
import EmberCore
import EmberFleet
import EmberHTTP
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@testable import EmberCloud

/// Refusals stay refusals when the audit log cannot be written, and a registration that keeps racing is a 503.
struct No5xxTests {
    @Test(arguments: TestDatabase.all)
    func aRefusedRegistrationIs401EvenWhenItsAuditRowCannotBeWritten(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let sql = try #require(test.store as? SQLStore)
            try await sql.provider.transaction { db in try await db.raw("DROP TABLE audit_log").run() }
            let response = try await client.register(SimulatedDevice(), key: "ZZZZZZ")
            #expect(response.status == .unauthorized)
            #expect(response.message == "Invalid or expired registration key")
        }
    }

    @Test func aRegistrationThatKeepsRacingIs503WithRetryAfter() throws {
        let error = APIError(RegistryError.unavailable("Concurrent registrations of this device; retry in a second", retryAfter: 1))
        #expect(error.status == .serviceUnavailable)
        #expect(error.headers[.retryAfter] == "1")
        #expect(APIError.registry(StoreError.contended("x")) == nil, "the service maps it; an unmapped store error is never shown")
    }
}
