import EmberCore
import SQLKit

@testable import EmberCloud

extension SQLStore {
    /// A key's record, whatever its state: for assertions on spending and revoking.
    func registrationKey(_ key: String) async throws -> RegistrationKeyRecord? {
        try await provider.read { db in
            try await db.select().columns(Self.keyColumns)
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

extension RegistrationKeyReference {
    /// A store test's key: the store treats a lookup as an opaque string, so the key itself serves.
    static func plain(_ key: String) -> RegistrationKeyReference {
        RegistrationKeyReference(lookup: key, masked: RegistrationKey.masked(key))
    }
}
