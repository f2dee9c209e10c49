import EmberCore
import Hummingbird
import Logging

/// `/registration-keys`: mint, list and revoke the caller's keys (admin or operator).
struct RegistrationKeyController {
    let keys: RegistrationKeys

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post(use: mint)
        group.get(use: list)
        group.delete("{key}", use: revoke)
    }

    @Sendable func mint(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RegistrationKeyCreated> {
        let admin = try context.requireAdmin()
        let created = try await keys.mint(owner: admin.name, client: context.clientAddress)
        context.logger.info("registration key minted", metadata: ["ember.key": "\(RegistrationKey.masked(created.key))"])
        return EditedResponse(status: .created, response: created)
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
