import EmberHTTP
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Ember's request context: Hummingbird's storage, the client's address and, on admin routes, the caller's token.
public struct AppRequestContext: ClientAddressContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address: the connecting peer, or what a trusted proxy forwarded (`ClientAddressMiddleware`);
    /// `unknown` when there is no socket, as in router tests.
    public var clientAddress: String
    /// Set by `AdminAuthMiddleware`, or by `ConsoleAuthMiddleware` from the session's token.
    public var admin: AdminTokenRecord?
    /// The console session, on console pages.
    public var console: ConsoleSessionRecord?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.peerAddress
    }

    /// JSON routes accept at most 64 KiB.
    public var maxUploadSize: Int { 64 * 1024 }

    /// One encoder for every response (Hummingbird's default makes one per response), with its ISO 8601 dates.
    public var responseEncoder: JSONEncoder { Self.encoder }

    private static let encoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// The caller's token, with at least `role` (an admin may do what an operator may, an operator what a user may).
    func requireAdmin(_ role: AdminRole = .operator) throws -> AdminTokenRecord {
        guard let admin else { throw RegistryError.unauthorized("Unauthorized") }
        guard admin.role.rank >= role.rank else {
            throw RegistryError.forbidden(
                admin.role == .user ? "A user token reaches only its account's devices" : "This action needs the \(role.rawValue) role"
            )
        }
        return admin
    }

    /// The account a `user` caller is confined to; nil for operators and admins.
    var scope: String? { admin?.role == .user ? admin?.accountID ?? "" : nil }
}
