import AsyncHTTPClient
import EmberCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

extension RegistryClient {
    /// `POST /registration-keys`.
    public func mintKey() async throws -> RegistrationKeyCreated {
        try decode(RegistrationKeyCreated.self, try await send(.POST, "/registration-keys"), expecting: 201)
    }

    /// `POST /registration-keys` with `{"count": N}`: N keys (at most 1,000) in one request.
    public func mintKeys(count: Int) async throws -> RegistrationKeysCreated {
        let body = try JSONEncoder().encode(RegistrationKeyBatchRequest(count: count))
        return try decode(
            RegistrationKeysCreated.self,
            try await send(.POST, "/registration-keys", headers: [("Content-Type", "application/json")], body: body),
            expecting: 201
        )
    }

    /// `GET /registration-keys`: the caller's active keys.
    public func listKeys() async throws -> [RegistrationKeyInfo] {
        try decode(RegistrationKeyList.self, try await send(.GET, "/registration-keys"), expecting: 200).registrationKeys
    }

    /// `DELETE /registration-keys/{key}`.
    public func revokeKey(_ key: String) async throws {
        try expect(try await send(.DELETE, "/registration-keys/\(key)"), status: 204)
    }

    /// One page of `GET /audit`, oldest first after `after`, only rows with `action` and by `actor` when given.
    public func audit(limit: Int = 100, after: Int64? = nil, action: String? = nil, actor: String? = nil) async throws -> AuditPage {
        var components = URLComponents()
        components.queryItems =
            [URLQueryItem(name: "limit", value: String(limit))]
            + [("after", after.map(String.init)), ("action", action), ("actor", actor)].compactMap { name, value in
                value.map { URLQueryItem(name: name, value: $0) }
            }
        return try decode(AuditPage.self, try await send(.GET, "/audit?" + (components.percentEncodedQuery ?? "")), expecting: 200)
    }

    /// One page of `GET /devices`, the devices `filter` matches.
    public func devices(limit: Int = 100, after: String? = nil, filter: DeviceFilter = DeviceFilter()) async throws -> DevicePage {
        var path = "/devices?limit=\(limit)"
        if let after { path += "&after=\(after)" }
        if !filter.query.isEmpty { path += "&" + filter.query }
        return try decode(DevicePage.self, try await send(.GET, path), expecting: 200)
    }

    /// Streams `GET /devices/export` to `receive`, a chunk at a time as the registry sends it.
    public func exportDevices(
        format: ManufacturingExport.Format,
        filter: DeviceFilter = DeviceFilter(),
        receive: (ByteBuffer) async throws -> Void
    ) async throws {
        var request = HTTPClientRequest(url: baseURL + "/devices/export?format=\(format.rawValue)" + (filter.query.isEmpty ? "" : "&" + filter.query))
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await http.execute(request, timeout: .hours(24))
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1_024 * 1_024)
            throw Failure(
                status: Int(response.status.code),
                message: Reply(status: Int(response.status.code), headers: [], body: Data(buffer: body)).message
            )
        }
        for try await chunk in response.body { try await receive(chunk) }
    }

    /// `GET /devices/{uuid}` as raw JSON (the full manufacturing record).
    public func deviceJSON(_ uuid: String) async throws -> Data {
        let reply = try await send(.GET, "/devices/\(uuid)")
        try expect(reply, status: 200)
        return reply.body
    }

    /// `GET /devices/{uuid}`.
    public func device(_ uuid: String) async throws -> DeviceRecord {
        try decode(DeviceRecord.self, try await send(.GET, "/devices/\(uuid)"), expecting: 200)
    }

    /// `POST /devices/{uuid}/actions`: queues an action for the device's next check-in.
    public func queueAction(_ uuid: String, _ type: ActionType, reason: String = "", config: JSONValue? = nil) async throws -> DeviceAction {
        let body = try JSONEncoder().encode(ActionRequest(type: type.rawValue, reason: reason, config: config))
        let reply = try await send(.POST, "/devices/\(uuid)/actions", headers: [("Content-Type", "application/json")], body: body)
        return try decode(DeviceAction.self, reply, expecting: 201)
    }

    /// `GET /devices/{uuid}/actions`, newest first.
    public func actions(_ uuid: String) async throws -> [DeviceAction] {
        try decode(ActionList.self, try await send(.GET, "/devices/\(uuid)/actions"), expecting: 200).actions
    }

    /// `DELETE /devices/{uuid}/actions/{id}`: cancels a pending action.
    public func cancelAction(_ uuid: String, id: Int64) async throws {
        try expect(try await send(.DELETE, "/devices/\(uuid)/actions/\(id)"), status: 204)
    }
}
