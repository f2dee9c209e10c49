import EmberCore
import EmberHTTP
import Foundation

/// Signing in to the admin console with an API token: the session lives 8 hours, is stored by the hash of its
/// cookie, and ends at sign-out or when its token is revoked.
struct ConsoleSessions: Sendable {
    static let lifetime: Int64 = 8 * 3600
    let store: any ConsoleRepository
    let tokens: AdminTokens
    let limiter: any FailureCounter
    let clock: any RegistryClock

    /// A new session for the token `presented`: the cookie value (shown to the browser only) and the record. Nil for
    /// a token that is not active; wrong tokens count toward the client's limit as on the API.
    func signIn(presented: String, client: String) async throws -> (cookie: String, session: ConsoleSessionRecord)? {
        let limited = { (retryAfter: Int64) -> any Error in
            RegistryError.tooManyRequests("Too many failed sign-ins; try again in \(retryAfter) s", retryAfter: retryAfter)
        }
        let value = presented.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { return nil }
        let found = try await limiter.attempt(client: "bearer " + client, now: clock.now(), blocked: limited) {
            let record = try await tokens.authenticate(value)
            return (record, record == nil)
        }
        guard let token = found else { return nil }
        let cookie = WebToken.generate()
        let now = clock.now()
        let session = ConsoleSessionRecord(
            idHash: WebToken.hash(cookie),
            token: token,
            csrf: WebToken.generate(),
            createdAt: now,
            expiresAt: now + Self.lifetime
        )
        let audit = AuditEvent(at: now, by: AuditActor(actor: token.name, client: client), action: "console.signed-in", subject: token.name)
        try await store.createConsoleSession(session, audit: audit)
        return (cookie, session)
    }

    /// The live session behind a cookie value.
    func session(cookie: String) async throws -> ConsoleSessionRecord? {
        try await store.consoleSession(idHash: WebToken.hash(cookie), now: clock.now())
    }

    /// Ends a session.
    func signOut(_ session: ConsoleSessionRecord, client: String) async throws {
        let now = clock.now()
        let audit = AuditEvent(
            at: now,
            by: AuditActor(actor: session.token.name, client: client),
            action: "console.signed-out",
            subject: session.token.name
        )
        _ = try await store.endConsoleSession(idHash: session.idHash, now: now, audit: audit)
    }
}
