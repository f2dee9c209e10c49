import EmberCore
import Foundation
import NIOHTTP1

extension RegistryClient {
    /// `POST /registration-keys`.
    public func mintKey() async throws -> RegistrationKeyCreated {
        try decode(RegistrationKeyCreated.self, try await send(.POST, "/registration-keys"), expecting: 201)
    }

    /// `GET /registration-keys`: the caller's active keys.
    public func listKeys() async throws -> [RegistrationKeyInfo] {
        try decode(RegistrationKeyList.self, try await send(.GET, "/registration-keys"), expecting: 200).registrationKeys
    }

    /// `DELETE /registration-keys/{key}`.
    public func revokeKey(_ key: String) async throws {
        try expect(try await send(.DELETE, "/registration-keys/\(key)"), status: 204)
    }

    /// One page of `GET /devices`.
    public func devices(limit: Int = 100, after: String? = nil) async throws -> DevicePage {
        var path = "/devices?limit=\(limit)"
        if let after { path += "&after=\(after)" }
        return try decode(DevicePage.self, try await send(.GET, path), expecting: 200)
    }

    /// `GET /devices/{uuid}` as raw JSON (the full manufacturing record).
    public func deviceJSON(_ uuid: String) async throws -> Data {
        let reply = try await send(.GET, "/devices/\(uuid)")
        try expect(reply, status: 200)
        return reply.body
    }
}
