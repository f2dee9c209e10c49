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
        let limited = { (retryAfter: Int64) -> any Error in
            metrics.adminAuthFailure("limited")
            return RegistryError.tooManyRequests("Too many failed token attempts; try again in \(retryAfter) s", retryAfter: retryAfter)
        }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.hasPrefix(prefix) || header.lowercased().hasPrefix("bearer ") else {
            // A missing or malformed header is not a guess at a token: refused, not counted.
            try await refuse(request, context: context, reason: header.isEmpty ? "missing bearer token" : "malformed bearer token", metric: "missing")
        }
        let presented = String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        // One reserved attempt per token check, so concurrent guesses cannot pass the limit.
        let found = try await limiter.attempt(client: attempt, now: clock.now(), blocked: limited) {
            let record = try await tokens.authenticate(presented)
            return (record, record == nil)
        }
        guard let record = found else {
            try await refuse(request, context: context, reason: "unknown or revoked bearer token", metric: "unknown")
        }
        var context = context
        context.admin = record
        return try await next(request, context)
    }

    /// Audits the refusal (throttled) and counts it under `metric`; always throws 401.
    private func refuse(_ request: Request, context: Context, reason: String, metric: String) async throws -> Never {
        metrics.adminAuthFailure(metric)
        await audit.record(
            reason: reason,
            subject: AuthFailureAudit.subject(path: request.uri.path),
            by: AuditActor(actor: "anonymous", client: context.clientAddress),
            now: clock.now()
        )
        throw RegistryError.unauthorized("Unauthorized")
    }
}
