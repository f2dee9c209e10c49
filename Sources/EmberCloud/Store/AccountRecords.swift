import EmberCore

/// Accounts, the devices they own, and claim tokens (lifecycle §7).
public protocol AccountRepository: Sendable {
    /// False when an account has this name already.
    func createAccount(_ account: Account, audit: AuditEvent) async throws -> Bool
    func accounts() async throws -> [Account]
    func account(id: String) async throws -> Account?
    /// Stores a claim token by its hash.
    func insertClaimToken(hash: String, account: String, createdBy: String, expiresAt: Int64, audit: AuditEvent) async throws
    /// Binds the device to the token's account, spending the token, in one transaction (see `ClaimOutcome`).
    func claim(uuid: String, tokenHash: String, now: Int64, by actor: AuditActor) async throws -> ClaimOutcome
    /// Releases the device from its account; false when it has none (or, with `account`, another one).
    func releaseOwner(uuid: String, account: String?, audit: AuditEvent) async throws -> Bool
}

/// How a claim ended; nothing changed unless it is `claimed`.
public enum ClaimOutcome: Sendable, Equatable {
    /// The device now belongs to the account (the token is spent).
    case claimed(account: String)
    /// The device belonged to the token's account already, or this device spent this token before: nothing changed.
    case alreadyOwned(account: String)
    /// Unknown, spent (by another device), or expired.
    case invalidToken
    /// Another account owns the device.
    case ownedByAnother
}
