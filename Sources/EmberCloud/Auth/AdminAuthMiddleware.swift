import Foundation
import Hummingbird

/// Admin routes: `Authorization: Bearer <token>` of an active token, else 401 `Unauthorized`.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: AdminTokens
    let metrics: EmberMetrics
    let audit: AuthFailureAudit
    let clock: any RegistryClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.count > prefix.count, header.hasPrefix(prefix) || header.lowercased().hasPrefix("bearer "),
            let record = try await tokens.authenticate(String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces))
        else {
            let reason = header.isEmpty ? "missing bearer token" : "unknown or revoked bearer token"
            metrics.adminAuthFailure(header.isEmpty ? "missing" : "unknown")
            await audit.record(
                reason: reason,
                subject: AuthFailureAudit.subject(path: request.uri.path),
                by: AuditActor(actor: "anonymous", client: context.clientAddress),
                now: clock.now()
            )
            throw RegistryError.unauthorized("Unauthorized")
        }
        var context = context
        context.admin = record
        return try await next(request, context)
    }
}
