import EmberCore
import EmberHTTP
import Foundation
import Hummingbird

/// The console's device pages: the searchable list with its CSV export, one device's record, and its actions.
struct ConsoleDevicesController {
    let devices: Devices
    let lifecycle: Lifecycle
    /// The JSON API's controller, whose export the CSV link streams.
    let admin: AdminController
    let pages: ConsolePages

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("devices", use: list)
        group.get("devices/export", use: admin.export)
        group.get("devices/{uuid}", use: show)
        group.post("devices/{uuid}/actions", use: queue)
        group.post("devices/{uuid}/actions/{id}/cancel", use: cancel)
    }

    static let pageSize = 50

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin(.user)
        let query = request.uri.queryParameters
        let given: [(String, String?)] = ["q", "state", "product_hex", "fleet_id", "region"].map { (name: String) in
            (name, query[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 })
        }
        let filterValues = Dictionary(given.map { ($0.0, $0.1 ?? "") }, uniquingKeysWith: { first, _ in first })
        var values: [String: Any] = [
            "filter": filterValues,
            "states": ["registered", "decommissioned"].map { (state: String) -> [String: Any] in
                ["value": state, "selected": filterValues["state"] == state]
            },
            "query": ConsolePages.query(given),
        ]
        do {
            let values1 = given.map(\.1)
            var filter = try Devices.filter(state: values1[1], productHex: values1[2], fleetID: values1[3], region: values1[4], q: values1[0])
            filter.ownerAccount = context.scope
            let after = query["after"].map(String.init)
            let page = try await devices.list(limit: Self.pageSize, after: after, filter: filter)
            values["devices"] = page.map(Self.row)
            if page.count == Self.pageSize, let last = page.last?.uuid { values["next"] = ConsolePages.query(given + [("after", last)]) }
            if after != nil { values["first"] = true }
        } catch RegistryError.badRequest(let message) {
            values["error"] = message
            values["devices"] = [[String: Any]]()
            return pages.page("console-devices", title: "Devices", section: "/console/devices", context: context, values: values, status: .badRequest)
        }
        return pages.page("console-devices", title: "Devices", section: "/console/devices", context: context, values: values)
    }

    static func row(_ device: DeviceRecord) -> [String: Any] {
        [
            "uuid": device.uuid, "productID": device.productID, "state": device.state,
            "stateClass": device.decommissionedAt == nil ? "ok" : "bad", "registered": ConsolePages.time(device.registrationDate),
            "lastSeen": ConsolePages.time(device.lastCheckIn?.at),
            "firmware": device.firmwareVersion ?? device.lastCheckIn?.report.firmwareVersion ?? "—",
        ]
    }

    /// The device page; after a form, `queued=TYPE` or `cancelled=ID` (the redirect's) says what was done.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var notice: String?
        if let type = query["queued"].flatMap({ ActionType(rawValue: String($0)) }) {
            notice = "Queued \(type.rawValue); the device carries it out at its next check-in."
        } else if let id = query["cancelled"].flatMap({ Int64(String($0)) }) {
            notice = "Cancelled action #\(id)."
        }
        return try await detail(uuid: try context.parameters.require("uuid"), context: context, notice: notice)
    }

    /// The device page, with a notice or a problem from the form just posted.
    func detail(uuid: String, context: AppRequestContext, notice: String? = nil, error: String? = nil) async throws -> Response {
        let admin = try context.requireAdmin(.user)
        let device = try await devices.device(uuid: uuid, scope: context.scope)
        let actions = try await lifecycle.actions(uuid: device.uuid, scope: context.scope)
        // Admins queue every action; a user the ones on its own devices that the API allows it.
        let canAct = admin.role != .operator && device.decommissionedAt == nil
        var values = DeviceView(device: device, actions: actions, canCancel: admin.role == .admin).values
        values["canAct"] = canAct
        values["canDecommission"] = admin.role == .admin
        let simple: [(ActionType, String)] = [(.rotateKey, "Rotate key"), (.backupNow, "Back up now"), (.factoryReset, "Factory reset")]
        values["simpleActions"] = simple.filter { admin.role == .admin || Lifecycle.userActions.contains($0.0) }.map {
            ["value": $0.0.rawValue, "label": $0.1]
        }
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return pages.page(
            "console-device",
            title: device.uuid,
            section: "/console/devices",
            context: context,
            values: values,
            status: error == nil ? .ok : .badRequest
        )
    }

    struct ActionForm: Decodable {
        var type: String
        var reason: String?
        var confirmUUID: String?

        enum CodingKeys: String, CodingKey {
            case type, reason
            case confirmUUID = "confirm_uuid"
        }
    }

    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.user)
        if admin.role == .operator { _ = try context.requireAdmin(.admin) }
        let uuid = try context.parameters.require("uuid")
        let form = try await ConsoleForm.require(ActionForm.self, request, context: context)
        if form.type == ActionType.decommission.rawValue {
            let typed = (form.confirmUUID ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            guard typed == uuid.lowercased() else {
                return try await detail(
                    uuid: uuid,
                    context: context,
                    error: "The UUID you typed does not match this device; it was not decommissioned. Type its UUID exactly to confirm."
                )
            }
        }
        let body = try JSONEncoder().encode(["type": form.type, "reason": form.reason ?? "from the console"])
        let action = try await lifecycle.createAction(
            uuid: uuid,
            body: body,
            by: AuditActor(actor: admin.name, client: context.clientAddress),
            scope: context.scope
        )
        return HTMLPages.redirect(to: "/console/devices/\(action.uuid)?queued=\(action.type.rawValue)")
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.admin)
        let uuid = try context.parameters.require("uuid")
        let id = try context.parameters.require("id")
        try await lifecycle.cancelAction(uuid: uuid, id: id, by: AuditActor(actor: admin.name, client: context.clientAddress))
        return HTMLPages.redirect(to: "/console/devices/\(try Devices.canonicalUUID(uuid))?cancelled=\(id)")
    }
}
