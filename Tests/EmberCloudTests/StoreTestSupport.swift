import EmberCore
import SQLKit

@testable import EmberCloud

extension SQLStore {
    /// A key's record, whatever its state: for assertions on spending and revoking.
    func registrationKey(_ key: String) async throws -> RegistrationKeyRecord? {
        try await provider.read { db in
            try await db.select().columns("key", "created_by", "generated_at", "expires_at", "spent_at", "spent_by", "revoked_at")
                .from("registration_keys").where("key", .equal, key).first().map(Self.keyRecord)
        }
    }
}

extension Store {
    /// `SQLStore.registrationKey(_:)` through the protocol the tests hold.
    func registrationKey(_ key: String) async throws -> RegistrationKeyRecord? {
        try await (self as? SQLStore)?.registrationKey(key)
    }
}
