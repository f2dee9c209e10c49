import EmberCore
import EmberHTTP
import Foundation
import Hummingbird

/// The console's claim-token page for a `user` token (lifecycle §7): mint one, shown large with its expiry, to
/// type into a board's provisioning page.
struct ConsoleAccountController {
    let accounts: Accounts
    let pages: ConsolePages
    let clock: any RegistryClock

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("claim-tokens", use: page)
        group.post("claim-tokens", use: mint)
    }

    private func requireUser(_ context: AppRequestContext) throws -> AdminTokenRecord {
        let caller = try context.requireAdmin(.user)
        guard caller.role == .user else { throw RegistryError.forbidden("Claim tokens belong to an account: sign in with a user token") }
        return caller
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try requireUser(context)
        return pages.page(
            "console-claim-tokens",
            title: "Claim tokens",
            section: "/console/claim-tokens",
            context: context,
            values: ["account": caller.accountID ?? ""]
        )
    }

    @Sendable func mint(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try requireUser(context)
        _ = try await ConsoleForm.require(EmptyForm.self, request, context: context)
        let created = try await accounts.mintClaimToken(for: caller, client: context.clientAddress)
        let values: [String: Any] = [
            "account": caller.accountID ?? "", "token": created.claimToken, "expires": ConsolePages.time(created.expiresAt),
            "expiresAt": created.expiresAt, "ttl": ConsolePages.duration(created.expiresAt - clock.now()),
        ]
        return pages.page(
            "console-claim-tokens",
            title: "Claim token",
            section: "/console/claim-tokens",
            context: context,
            values: values,
            status: .created
        )
    }

    struct EmptyForm: Decodable {}
}
