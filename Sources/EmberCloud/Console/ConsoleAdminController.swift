import EmberCore
import EmberHTTP
import Foundation
import Hummingbird

/// The console's admin-only pages: the audit log and API tokens. An operator never sees them in the navigation,
/// and the server refuses them anyway (403).
struct ConsoleAdminController {
    let audit: AuditLog
    let tokens: AdminTokens
    let accounts: Accounts
    let pages: ConsolePages

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("audit", use: auditPage)
        group.get("tokens", use: tokenList)
        group.post("tokens", use: create)
        group.post("tokens/revoke", use: revoke)
    }

    /// Actions the filter suggests.
    static let knownActions = [
        "device.registered", "registration.refused", "key.minted", "key.revoked", "key.submitted", "key.activated", "token.created",
        "token.revoked", "auth.failed", "action.created", "action.cancelled", "action.done", "action.failed", "device.decommission_notice",
        "device.decommissioned", "backup.deleted", "console.signed-in", "console.signed-out", "device.enrolled", "device.certificate_issued",
        "onboarding_root.added", "onboarding_root.removed", "preregistration.created", "preregistration.deleted", "account.created",
        "claim_token.created", "device.claimed", "device.released",
    ]

    @Sendable func auditPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin(.admin)
        let query = request.uri.queryParameters
        let action = query["action"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let actor = query["actor"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        var before: Int64?
        if let text = query["before"] {
            guard let value = Int64(text), value > 0 else { throw RegistryError.badRequest("before must be an audit entry id") }
            before = value
        }
        let limit = 100
        let entries = try await audit.entries(AuditQuery(limit: limit, before: before, newestFirst: true, action: action, actor: actor))
        var values: [String: Any] = [
            "filter": ["action": action ?? "", "actor": actor ?? ""],
            "knownActions": Self.knownActions,
            "entries": entries.map(ConsoleController.auditRow),
        ]
        if entries.count == limit, let last = entries.last?.id {
            values["older"] = ConsolePages.query([("action", action), ("actor", actor), ("before", String(last))])
        }
        return pages.page("console-audit", title: "Audit", section: "/console/audit", context: context, values: values)
    }

    @Sendable func tokenList(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin(.admin)
        var values = try await listValues()
        if let name = request.uri.queryParameters["revoked"] { values["notice"] = "Revoked token \(name); its sessions have ended." }
        return pages.page("console-tokens", title: "Tokens", section: "/console/tokens", context: context, values: values)
    }

    private func listValues() async throws -> [String: Any] {
        [
            "roles": AdminRole.allCases.map(\.rawValue),
            "accounts": try await accounts.all().map { ["id": $0.id, "name": $0.name] },
            "tokens": try await tokens.all().map {
                [
                    "name": $0.name, "role": $0.role.rawValue, "account": $0.accountID ?? "", "created": ConsolePages.time($0.createdAt),
                    "revoked": ConsolePages.time($0.revokedAt),
                    "active": $0.revokedAt == nil,
                ] as [String: Any]
            },
        ]
    }

    struct CreateForm: Decodable {
        var name: String
        var role: String
        var account: String?
    }

    /// Creates a token and shows its value once, on this response only.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.admin)
        let form = try await ConsoleForm.require(CreateForm.self, request, context: context)
        guard let role = AdminRole(rawValue: form.role) else { throw RegistryError.badRequest("role must be admin, operator or user") }
        let by = AuditActor(actor: admin.name, client: context.clientAddress)
        var values = try await listValues()
        do {
            let account = role == .user ? form.account.flatMap { $0.isEmpty ? nil : $0 } : nil
            let value = try await tokens.create(name: form.name.trimmingCharacters(in: .whitespaces), role: role, account: account, by: by)
            values = try await listValues()
            values["created"] = ["name": form.name, "value": value]
        } catch StoreError.duplicateName {
            values["error"] = "A token named \(form.name) exists already; choose another name."
            return pages.page("console-tokens", title: "Tokens", section: "/console/tokens", context: context, values: values, status: .conflict)
        } catch RegistryError.badRequest(let message), RegistryError.notFound(let message) {
            values["error"] = message
            return pages.page("console-tokens", title: "Tokens", section: "/console/tokens", context: context, values: values, status: .badRequest)
        }
        return pages.page("console-tokens", title: "Tokens", section: "/console/tokens", context: context, values: values, status: .created)
    }

    struct RevokeForm: Decodable {
        var name: String
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.admin)
        let form = try await ConsoleForm.require(RevokeForm.self, request, context: context)
        guard try await tokens.revoke(name: form.name, by: AuditActor(actor: admin.name, client: context.clientAddress)) else {
            throw RegistryError.notFound("No active token named \(form.name)")
        }
        return HTMLPages.redirect(to: "/console/tokens?" + ConsolePages.query([("revoked", form.name)]))
    }
}
