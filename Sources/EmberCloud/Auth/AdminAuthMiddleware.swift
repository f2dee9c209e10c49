import Foundation
import Hummingbird

/// Admin routes: `Authorization: Bearer <token>` of an active token, else 401 `Unauthorized`. Wrong tokens count
/// per client like wrong registration keys: past the limit the client gets 429 with `Retry-After`, the right token
/// included, until the window has passed. A request without a token is not an attempt.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: AdminTokens
    let metrics: EmberMetrics
    let audit: AuthFailureAudit
    let limiter: any FailureCounter
    let clock: any RegistryClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let attempt = "bearer " + context.clientAddress  // its own count, apart from registration keys
        if !header.isEmpty, let retryAfter = try await limiter.retryAfter(client: attempt, now: clock.now()) {
            metrics.adminAuthFailure("limited")
            throw RegistryError.tooManyRequests("Too many failed token attempts; try again in \(retryAfter) s", retryAfter: retryAfter)
        }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.hasPrefix(prefix) || header.lowercased().hasPrefix("bearer "),
            let record = try await tokens.authenticate(String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces))
        else {
            let reason = header.isEmpty ? "missing bearer token" : "unknown or revoked bearer token"
            metrics.adminAuthFailure(header.isEmpty ? "missing" : "unknown")
            if !header.isEmpty { try await limiter.recordFailure(client: attempt, now: clock.now()) }
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
