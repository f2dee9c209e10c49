import Crypto
import EmberCore
import EmberHTTP
import Foundation

/// Admin API tokens: 256 random bits shown once, stored only as their SHA-256.
public struct AdminTokens: Sendable {
    let store: any AdminTokenRepository
    let clock: any RegistryClock

    public init(store: any AdminTokenRepository, clock: any RegistryClock) {
        self.store = store
        self.clock = clock
    }

    /// A new random token (`ember_` + 64 hex characters).
    public static func generate() -> String {
        "ember_" + SymmetricKey(size: .bits256).withUnsafeBytes { Hex.encode($0) }
    }

    /// Lower-case hex SHA-256 of a token: what the database holds.
    public static func hash(_ token: String) -> String {
        WebToken.hash(token)
    }

    /// Creates a token and returns its value, which is never stored or shown again.
    /// A `user` token needs `account` (and only it may have one).
    public func create(name: String, role: AdminRole, account: String? = nil, by actor: AuditActor, value: String? = nil) async throws -> String {
        guard !name.isEmpty, name.unicodeScalars.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw RegistryError.badRequest("token name must be 1–64 letters, digits, '-', '_', '.' or '@'")
        }
        guard (role == .user) == (account != nil) else {
            throw RegistryError.badRequest(role == .user ? "a user token needs an account (--account ID)" : "only user tokens belong to an account")
        }
        let token = value ?? Self.generate()
        do {
            try await store.createAdminToken(
                name: name,
                role: role,
                accountID: account,
                hash: Self.hash(token),
                audit: AuditEvent(
                    at: clock.now(),
                    by: actor,
                    action: "token.created",
                    subject: name,
                    detail: "role \(role.rawValue)" + (account.map { " of account \($0)" } ?? "")
                )
            )
        } catch StoreError.unknownAccount(let id) {
            throw RegistryError.notFound("No account \(id): create it with ember accounts create")
        }
        return token
    }

    /// Revokes a token by name; false when there is no active one.
    public func revoke(name: String, by actor: AuditActor) async throws -> Bool {
        try await store.revokeAdminToken(name: name, audit: AuditEvent(at: clock.now(), by: actor, action: "token.revoked", subject: name))
    }

    /// Every token, revoked ones included (names and roles, never values).
    public func all() async throws -> [AdminTokenRecord] {
        try await store.adminTokens()
    }

    /// The active token behind a bearer value.
    public func authenticate(_ token: String) async throws -> AdminTokenRecord? {
        try await store.adminToken(hash: Self.hash(token))
    }

    /// Creates the `bootstrap` admin token from `EMBER_BOOTSTRAP_TOKEN` when the database has no admin token yet.
    @discardableResult
    public func bootstrap(_ token: String) async throws -> Bool {
        guard token.count >= 16 else {
            throw RegistryError.badRequest("EMBER_BOOTSTRAP_TOKEN must be at least 16 characters")
        }
        guard try await !store.hasActiveAdminToken() else { return false }
        var name = "bootstrap"
        var suffix = 1
        while try await store.adminTokens().contains(where: { $0.name == name }) {
            suffix += 1
            name = "bootstrap-\(suffix)"
        }
        do {
            _ = try await create(name: name, role: .admin, by: AuditActor(actor: "ember serve", client: "local"), value: token)
        } catch StoreError.duplicateTokenValue {
            throw RegistryError.badRequest(
                "EMBER_BOOTSTRAP_TOKEN is the value of a revoked token and cannot be used again: set a new value (16+ characters), "
                    + "or create an admin token with `ember admin token create --name NAME --role admin`"
            )
        }
        return true
    }
}
