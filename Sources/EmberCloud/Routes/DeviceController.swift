import EmberCore
import Foundation
import HTTPTypes
import Hummingbird

/// Routes a device calls with a signed request.
struct DeviceController {
    let authenticator: DeviceAuthenticator
    let devices: Devices

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("devices/{uuid}/registration", use: registration)
    }

    @Sendable func registration(_ request: Request, context: AppRequestContext) async throws -> RegistrationStatus {
        let device = try await authenticate(request, context: context, body: Data(), unknownDeviceIsNotFound: true)
        return devices.status(of: device)
    }

    /// Verifies the request's signature headers; returns the device that signed it.
    func authenticate(_ request: Request, context: AppRequestContext, body: Data, unknownDeviceIsNotFound: Bool) async throws -> DeviceCredential {
        let headers = DeviceAuthenticator.Headers(
            uuid: request.headers[.xDeviceUUID], nonce: request.headers[.xDeviceNonce], timestamp: request.headers[.xDeviceTimestamp],
            signature: request.headers[.xDeviceSignature], version: request.headers[.xDeviceSignatureVersion])
        let facts = DeviceAuthenticator.RequestFacts(
            pathUUID: try context.parameters.require("uuid"), method: request.method.rawValue, target: request.uri.description,
            body: body, client: context.clientAddress)
        return try await authenticator.authenticate(headers, facts, unknownDeviceIsNotFound: unknownDeviceIsNotFound)
    }
}
