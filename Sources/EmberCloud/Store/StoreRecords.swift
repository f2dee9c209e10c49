import EmberCore
import Foundation

/// What an admin token may do.
public enum AdminRole: String, Codable, Sendable, CaseIterable {
    /// Everything.
    case admin
    /// Registration keys and reading devices.
    case `operator`
    /// One account's devices only (lifecycle §7): list, show, back up now, factory reset, release; claim tokens.
    case user

    /// What a role may do beyond the ones below it: user < operator < admin.
    var rank: Int {
        switch self {
        case .user: 0
        case .operator: 1
        case .admin: 2
        }
    }
}

/// An admin API token as stored: its hash, never the token itself.
public struct AdminTokenRecord: Codable, Sendable, Equatable {
    public var name: String
    public var role: AdminRole
    public var createdAt: Int64
    public var revokedAt: Int64?
    /// The account a `user` token belongs to.
    public var accountID: String?

    enum CodingKeys: String, CodingKey {
        case name, role
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        case accountID = "account_id"
    }
}

/// A registration key and its life: who minted it, when it expires, which device spent it.
public struct RegistrationKeyRecord: Sendable, Equatable {
    /// The key's lookup (a keyed hash), never the key.
    public var key: String
    /// The key, sealed under the key-encryption key.
    public var sealed: String
    public var createdBy: String
    public var generatedAt: Int64
    public var expiresAt: Int64
    public var spentAt: Int64?
    public var spentBy: String?
    public var revokedAt: Int64?
}

/// A registration key as the store sees it: its lookup, and the masked form audit rows show.
public struct RegistrationKeyReference: Sendable, Equatable {
    public var lookup: String
    public var masked: String

    public init(lookup: String, masked: String) {
        self.lookup = lookup
        self.masked = masked
    }
}

/// Who did something, from where: the actor and client address of an audit row.
public struct AuditActor: Sendable, Equatable {
    /// A token name, `device:<uuid>`, `cli` or `anonymous`.
    public var actor: String
    /// The client's address, or `local` for the CLI.
    public var client: String

    public init(actor: String, client: String) {
        self.actor = actor
        self.client = client
    }
}

/// One audit-log row to write.
public struct AuditEvent: Sendable, Equatable {
    public var at: Int64
    public var by: AuditActor
    /// e.g. `key.minted`, `device.registered`, `registration.refused`.
    public var action: String
    /// What it acted on: a masked key, a device UUID, a token name.
    public var subject: String
    /// A short reason or detail; never a secret.
    public var detail: String

    public init(at: Int64, by: AuditActor, action: String, subject: String, detail: String = "") {
        self.at = at
        self.by = by
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

/// How a registration attempt ended in the store.
public enum RegistrationOutcome: Sendable, Equatable {
    /// New device stored; the key is spent.
    case registered
    /// The same UUID and public key were already registered (with this key, or with another valid key, which stays
    /// unspent); nothing changed.
    case alreadyRegistered
    /// The UUID is registered with another public key; nothing changed.
    case conflictingPublicKey
    /// The key is unknown, spent, revoked or expired.
    case invalidKey
    /// The UUID belongs to a decommissioned device; nothing changed.
    case decommissioned
}
