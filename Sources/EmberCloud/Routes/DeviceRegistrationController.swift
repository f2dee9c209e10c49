import EmberCore
import EmberHTTP
import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationEssentialsCompat

/// FireFly's `POST /devices/register`, checked in the contract's order.
struct DeviceRegistrationController {
    let registration: RegistrationService

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("devices/register", use: register)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = try RegistrationKey.fromHeader(request.headers[.xRegistrationKey])
        try await registration.checkNotBlocked(client: context.clientAddress)
        try requireJSON(request)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        try await registration.register(body: Data(buffer: body), key: key, client: context.clientAddress, logger: context.logger)
        return Response(status: .noContent)
    }
}

/// Refuses a body whose `Content-Type` is not JSON.
func requireJSON(_ request: Request) throws {
    guard request.hasJSONContentType else { throw RegistryError.unsupportedMediaType("Content-Type must be application/json") }
}
