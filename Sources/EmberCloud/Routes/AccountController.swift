import EmberCore
import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat

/// Accounts (admin), claim tokens (a user token) and releasing a device from its account (lifecycle §7).
struct AccountController {
    let accounts: Accounts

    func addRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.post("accounts", use: create)
        admin.get("accounts", use: list)
        admin.post("claim-tokens", use: mintClaimToken)
        admin.delete("devices/{uuid}/owner", use: release)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<Account> {
        let admin = try context.requireAdmin(.admin)
        try requireJSON(request)
        let body = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let account = try await accounts.create(body, by: AuditActor(actor: admin.name, client: context.clientAddress))
        return EditedResponse(status: .created, response: account)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> AccountList {
        _ = try context.requireAdmin(.admin)
        return AccountList(accounts: try await accounts.all())
    }

    @Sendable func mintClaimToken(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ClaimTokenCreated> {
        let caller = try context.requireAdmin(.user)
        return EditedResponse(status: .created, response: try await accounts.mintClaimToken(for: caller, client: context.clientAddress))
    }

    @Sendable func release(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireAdmin(.user)
        if caller.role == .operator { _ = try context.requireAdmin(.admin) }
        try await accounts.release(uuid: try context.parameters.require("uuid"), by: caller, client: context.clientAddress)
        return Response(status: .noContent)
    }
}

/// `GET /accounts`.
struct AccountList: ResponseEncodable, Codable {
    var accounts: [Account]
}

extension Account: ResponseEncodable {}
extension ClaimTokenCreated: ResponseEncodable {}
extension ClaimReply: ResponseEncodable {}
