import EmberCore
import EmberHTTP
import Foundation
import Hummingbird

/// The console's zero-touch page: trusted onboarding roots (admins add and remove them), pre-registrations
/// (operators too), the enrollment mode and the device CA.
struct ConsoleOnboardingController {
    let onboarding: Onboarding
    let pages: ConsolePages

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("onboarding", use: page)
        group.post("onboarding/roots", use: addRoot)
        group.post("onboarding/roots/remove", use: removeRoot)
        group.post("onboarding/preregistrations", use: preregister)
        group.post("onboarding/preregistrations/remove", use: removePreregistration)
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let after = request.uri.queryParameters["after"].map(String.init)
        let limit = 100
        let preregistrations = try await onboarding.preregistrations(limit: limit, after: after)
        var values: [String: Any] = [
            "mode": onboarding.mode.rawValue,
            "allowList": onboarding.mode == .allowList,
            "isAdmin": admin.role == .admin,
            "preregistrations": preregistrations.map {
                [
                    "serial": $0.serial, "product": $0.productHex ?? "any", "region": $0.region ?? "", "fleet": $0.fleetID ?? "",
                    "created": ConsolePages.time($0.createdAt), "by": $0.createdBy ?? "", "uuid": $0.enrolledUUID ?? "",
                    "enrolled": ConsolePages.time($0.enrolledAt),
                ] as [String: Any]
            },
        ]
        if admin.role == .admin {
            values["roots"] = try await onboarding.roots().map {
                [
                    "sha256": $0.sha256, "subject": $0.subject, "expires": ConsolePages.time($0.notAfter), "added": ConsolePages.time($0.addedAt),
                    "by": $0.addedBy,
                ]
            }
        }
        if preregistrations.count == limit, let last = preregistrations.last?.serial {
            values["next"] = ConsolePages.query([("after", last)])
        }
        if let notice = request.uri.queryParameters["notice"] { values["notice"] = String(notice) }
        return pages.page("console-onboarding", title: "Zero-touch", section: "/console/onboarding", context: context, values: values)
    }

    struct RootForm: Decodable {
        var pem: String
    }

    struct NameForm: Decodable {
        var name: String
    }

    struct PreregistrationForm: Decodable {
        var serial: String
        var productHex: String?
        var region: String?
        var fleetID: String?

        enum CodingKeys: String, CodingKey {
            case serial, region
            case productHex = "product_hex"
            case fleetID = "fleet_id"
        }
    }

    @Sendable func addRoot(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.admin)
        let form = try await ConsoleForm.require(RootForm.self, request, context: context)
        let root = try await onboarding.addRoot(pem: form.pem, by: AuditActor(actor: admin.name, client: context.clientAddress))
        return done("Trusted \(root.subject).")
    }

    @Sendable func removeRoot(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.admin)
        let form = try await ConsoleForm.require(NameForm.self, request, context: context)
        try await onboarding.removeRoot(sha256: form.name, by: AuditActor(actor: admin.name, client: context.clientAddress))
        return done("Removed the root \(form.name.prefix(16))…; devices it enrolled stay.")
    }

    @Sendable func preregister(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let form = try await ConsoleForm.require(PreregistrationForm.self, request, context: context)
        func given(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) } }
        let created = try await onboarding.preregister(
            PreregistrationRequest(
                serial: form.serial.trimmingCharacters(in: .whitespaces),
                productHex: given(form.productHex),
                region: given(form.region),
                fleetID: given(form.fleetID)
            ),
            by: AuditActor(actor: admin.name, client: context.clientAddress)
        )
        return done("Pre-registered serial \(created.serial).")
    }

    @Sendable func removePreregistration(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let form = try await ConsoleForm.require(NameForm.self, request, context: context)
        try await onboarding.removePreregistration(serial: form.name, by: AuditActor(actor: admin.name, client: context.clientAddress))
        return done("Removed the pre-registration of \(form.name).")
    }

    private func done(_ notice: String) -> Response {
        HTMLPages.redirect(to: "/console/onboarding?" + ConsolePages.query([("notice", notice)]))
    }
}
