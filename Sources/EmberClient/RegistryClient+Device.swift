import EmberCore
import Foundation
import NIOHTTP1

extension RegistryClient {
    /// FireFly `POST /devices/register`; returns the reply (204 on success).
    public func register(_ body: RegistrationRequest, key: String) async throws -> Reply {
        try await send(
            .POST,
            "/devices/register",
            headers: [(FireFlyHeader.registrationKey, key), (FireFlyHeader.contentType, "application/json")],
            body: try JSONEncoder().encode(body)
        )
    }

    /// Signed `GET /devices/{uuid}/registration`: the boot-time registration check.
    public func registrationStatus(
        master: MasterKey,
        uuid: UUID,
        version: SignatureVersion = .v2,
        at time: DeviceTimestamp
    ) async throws -> Reply {
        let path = "/devices/\(DeviceUUID.format(uuid))/registration"
        let headers = try RequestSigner.sign(master: master, uuid: uuid, version: version, method: "GET", path: path, at: time)
        return try await send(.GET, path, headers: headers.fields.map { ($0.name, $0.value) })
    }
}
