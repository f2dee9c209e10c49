import EmberCore
import Foundation
import Hummingbird
import Logging
import NIOFoundationEssentialsCompat

/// `/registration-keys`: mint, list and revoke the caller's keys (admin or operator).
struct RegistrationKeyController {
    let keys: RegistrationKeys

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post(use: mint)
        group.get(use: list)
        group.delete("{key}", use: revoke)
    }

    /// One key (FireFly: no body), or `{"count": N}` keys at once.
    @Sendable func mint(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        if body.readableBytes > 0 {
            try requireJSON(request)
            let count: Int
            do { count = try WireDecoder.decode(RegistrationKeyBatchRequest.self, from: Data(buffer: body)).validated() } catch {
                throw RegistryError.badRequest(error.message)
            }
            let created = try await keys.mint(count: count, owner: admin.name, client: context.clientAddress)
            context.logger.info("registration keys minted", metadata: ["ember.keys": "\(count)"])
            return try EditedResponse(status: .created, response: created).response(from: request, context: context)
        }
        let created = try await keys.mint(owner: admin.name, client: context.clientAddress)
        context.logger.info("registration key minted", metadata: ["ember.key": "\(RegistrationKey.masked(created.key))"])
        return try EditedResponse(status: .created, response: created).response(from: request, context: context)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> RegistrationKeyList {
        let admin = try context.requireAdmin()
        return RegistrationKeyList(registrationKeys: try await keys.active(owner: admin.name))
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let key = try context.parameters.require("key")
        try await keys.revoke(key, owner: admin.name, client: context.clientAddress)
        return Response(status: .noContent)
    }
}

extension RegistrationKeysCreated: ResponseEncodable {}
