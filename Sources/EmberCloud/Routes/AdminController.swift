import EmberCore
import Hummingbird
import Logging

/// Admin reads: `GET /devices`, `GET /devices/{uuid}` (admin or operator) and `GET /audit` (admin; filters `action`
/// and `actor`).
struct AdminController {
    let devices: Devices
    let audit: AuditLog

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("devices", use: list)
        group.get("devices/export", use: export)
        group.get("devices/{uuid}", use: show)
        group.get("audit", use: auditPage)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> DevicePage {
        _ = try context.requireAdmin(.user)
        let limit = try pageLimit(request)
        let page = try await devices.list(
            limit: limit,
            after: request.uri.queryParameters["after"].map(String.init),
            filter: try Self.filter(request, context: context)
        )
        return DevicePage(devices: page, nextAfter: page.count == limit ? page.last?.uuid : nil)
    }

    /// Streams every manufacturing record the filters match; nothing is buffered beyond one page.
    @Sendable func export(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin(.user)
        let text = request.uri.queryParameters["format"].map(String.init) ?? "csv"
        guard let format = ManufacturingExport.Format(rawValue: text) else { throw RegistryError.badRequest("format must be csv or jsonl") }
        let filter = try Self.filter(request, context: context)
        let devices = self.devices
        let logger = context.logger
        return Response(
            status: .ok,
            headers: [.contentType: format.contentType, .contentDisposition: "attachment; filename=\"devices.\(format.rawValue)\""],
            body: ResponseBody { writer in
                do {
                    try await devices.export(format: format, filter: filter) { chunk in try await writer.write(ByteBuffer(string: chunk)) }
                } catch {
                    logger.error("device export ended early", metadata: ["ember.error": "\(error)"])
                    throw error
                }
                try await writer.finish(nil)
            }
        )
    }

    /// The filters of `GET /devices` and the export: `state`, `product_hex`, `fleet_id`, `region`, `q`; a `user`
    /// caller sees its account's devices only.
    static func filter(_ request: Request, context: AppRequestContext) throws -> DeviceFilter {
        let query = request.uri.queryParameters
        var filter = try Devices.filter(
            state: query["state"].map(String.init),
            productHex: query["product_hex"].map(String.init),
            fleetID: query["fleet_id"].map(String.init),
            region: query["region"].map(String.init),
            q: query["q"].map(String.init)
        )
        filter.ownerAccount = context.scope
        return filter
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> DeviceRecord {
        _ = try context.requireAdmin(.user)
        return try await devices.device(uuid: try context.parameters.require("uuid"), scope: context.scope)
    }

    @Sendable func auditPage(_ request: Request, context: AppRequestContext) async throws -> AuditPage {
        _ = try context.requireAdmin(.admin)
        let limit = try pageLimit(request)
        var after: Int64?
        if let text = request.uri.queryParameters["after"] {
            guard let value = Int64(text), value >= 0 else { throw RegistryError.badRequest("after must be an audit entry id") }
            after = value
        }
        var filters: [String: String] = [:]
        for name in ["action", "actor"] {
            guard let value = request.uri.queryParameters[Substring(name)].map(String.init) else { continue }
            guard (1...128).contains(value.count) else { throw RegistryError.badRequest("\(name) must be 1 to 128 characters") }
            filters[name] = value
        }
        let entries = try await audit.entries(AuditQuery(limit: limit, after: after, action: filters["action"], actor: filters["actor"]))
        return AuditPage(entries: entries, nextAfter: entries.count == limit ? entries.last?.id : nil)
    }
}
