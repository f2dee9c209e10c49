import EmberCore
import Foundation

/// A device as the admin API lists it (the fields the CLI shows).
public struct DeviceSummary: Codable, Sendable {
    public var uuid: String
    public var productID: String
    public var productHex: String
    public var deviceClass: String
    public var registrationDate: Int64
    public var registeredBy: String
    public var registeringApplication: String
    public var registeringVersion: String
    public var decommissionedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case uuid
        case productID = "product_id"
        case productHex = "product_hex"
        case deviceClass = "device_class"
        case registrationDate = "registration_date"
        case registeredBy = "registered_by"
        case registeringApplication = "registering_application"
        case registeringVersion = "registering_version"
        case decommissionedAt = "decommissioned_at"
    }
}

/// One page of `GET /devices`.
public struct DeviceSummaryPage: Codable, Sendable {
    public var devices: [DeviceSummary]
    public var nextAfter: String?

    enum CodingKeys: String, CodingKey {
        case devices
        case nextAfter = "next_after"
    }
}

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
    public func devices(limit: Int = 100, after: String? = nil) async throws -> DeviceSummaryPage {
        var path = "/devices?limit=\(limit)"
        if let after { path += "&after=\(after)" }
        return try decode(DeviceSummaryPage.self, try await send(.GET, path), expecting: 200)
    }

    /// `GET /devices/{uuid}` as raw JSON (the full manufacturing record).
    public func deviceJSON(_ uuid: String) async throws -> Data {
        let reply = try await send(.GET, "/devices/\(uuid)")
        try expect(reply, status: 200)
        return reply.body
    }
}
