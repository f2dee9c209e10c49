import EmberCore
import Foundation
import Hummingbird
import Logging
import NIOFoundationEssentialsCompat

/// `/devices/{uuid}/actions`: queue (admin), list (admin or operator) and cancel (admin) what a device does at its
/// next check-in.
struct ActionController {
    let lifecycle: Lifecycle

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("devices/{uuid}/actions", use: create)
        group.get("devices/{uuid}/actions", use: list)
        group.delete("devices/{uuid}/actions/{id}", use: cancel)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<DeviceAction> {
        // Admins queue any action; a user token backup-now and factory-reset on its account's devices; operators none.
        let admin = try context.requireAdmin(.user)
        if admin.role == .operator { _ = try context.requireAdmin(.admin) }
        try requireJSON(request)
        let body = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let action = try await lifecycle.createAction(
            uuid: try context.parameters.require("uuid"),
            body: body,
            by: AuditActor(actor: admin.name, client: context.clientAddress),
            scope: context.scope
        )
        context.logger.notice("action queued", metadata: ["ember.device.uuid": "\(action.uuid)", "ember.action": "\(action.type.rawValue)"])
        return EditedResponse(status: .created, response: action)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ActionList {
        _ = try context.requireAdmin(.user)
        return ActionList(actions: try await lifecycle.actions(uuid: try context.parameters.require("uuid"), scope: context.scope))
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.admin)
        try await lifecycle.cancelAction(
            uuid: try context.parameters.require("uuid"),
            id: try context.parameters.require("id"),
            by: AuditActor(actor: admin.name, client: context.clientAddress)
        )
        return Response(status: .noContent)
    }
}
