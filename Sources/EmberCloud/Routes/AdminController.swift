import EmberCore
import Hummingbird

/// Admin reads: `GET /devices`, `GET /devices/{uuid}` (admin or operator) and `GET /audit` (admin).
struct AdminController {
    let devices: Devices
    let audit: AuditLog

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("devices", use: list)
        group.get("devices/{uuid}", use: show)
        group.get("audit", use: auditPage)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> DevicePage {
        _ = try context.requireAdmin()
        let limit = try pageLimit(request)
        let page = try await devices.list(
            limit: limit,
            after: request.uri.queryParameters["after"].map(String.init),
            state: request.uri.queryParameters["state"].map(String.init)
        )
        return DevicePage(devices: page, nextAfter: page.count == limit ? page.last?.uuid : nil)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> DeviceRecord {
        _ = try context.requireAdmin()
        return try await devices.device(uuid: try context.parameters.require("uuid"))
    }

    @Sendable func auditPage(_ request: Request, context: AppRequestContext) async throws -> AuditPage {
        _ = try context.requireAdmin(.admin)
        let limit = try pageLimit(request)
        var after: Int64?
        if let text = request.uri.queryParameters["after"] {
            guard let value = Int64(text), value >= 0 else { throw RegistryError.badRequest("after must be an audit entry id") }
            after = value
        }
        let entries = try await audit.entries(limit: limit, after: after)
        return AuditPage(entries: entries, nextAfter: entries.count == limit ? entries.last?.id : nil)
    }
}
