import AsyncHTTPClient
import EmberCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

extension RegistryClient {
    /// `POST /onboarding-roots` with a root certificate in PEM (admin role).
    public func addOnboardingRoot(pem: String) async throws -> OnboardingRoot {
        let reply = try await send(.POST, "/onboarding-roots", headers: [("Content-Type", "text/plain")], body: Data(pem.utf8))
        return try decode(OnboardingRoot.self, reply, expecting: 201)
    }

    /// `GET /onboarding-roots`.
    public func onboardingRoots() async throws -> [OnboardingRoot] {
        try decode(OnboardingRootList.self, try await send(.GET, "/onboarding-roots"), expecting: 200).onboardingRoots
    }

    /// `DELETE /onboarding-roots/{sha256}`.
    public func removeOnboardingRoot(sha256: String) async throws {
        try expect(try await send(.DELETE, "/onboarding-roots/\(sha256)"), status: 204)
    }

    /// `POST /preregistrations`.
    public func preregister(_ request: PreregistrationRequest) async throws -> Preregistration {
        let reply = try await send(
            .POST,
            "/preregistrations",
            headers: [("Content-Type", "application/json")],
            body: try JSONEncoder().encode(request)
        )
        return try decode(Preregistration.self, reply, expecting: 201)
    }

    /// One page of `GET /preregistrations`.
    public func preregistrations(limit: Int = 100, after: String? = nil) async throws -> PreregistrationPage {
        var path = "/preregistrations?limit=\(limit)"
        if let after, let escaped = after.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) { path += "&after=\(escaped)" }
        return try decode(PreregistrationPage.self, try await send(.GET, path), expecting: 200)
    }

    /// `DELETE /preregistrations/{serial}`.
    public func removePreregistration(serial: String) async throws {
        try expect(try await send(.DELETE, "/preregistrations/\(serial)"), status: 204)
    }

    /// `GET /ca.pem`: the registry's device CA.
    public func deviceCA() async throws -> String {
        let reply = try await send(.GET, "/ca.pem")
        try expect(reply, status: 200)
        return String(decoding: reply.body, as: UTF8.self)
    }

    /// `POST /devices/enroll`, signed with the onboarding key's headers; the raw reply (201, 200 or a refusal).
    public func enroll(body: Data, headers: [(String, String)]) async throws -> Reply {
        try await send(.POST, "/devices/enroll", headers: [("Content-Type", "application/json")] + headers, body: body)
    }
}

/// Connection pools that trust only the certificates of one PEM file for HTTPS: a device's
/// `root-certificate.pem`, or the CLI's `--cacert`. One pool per file, kept for the life of the process.
public enum TrustedHTTP {
    private static let pools = Mutex<[String: HTTPClient]>([:])

    /// Why the file cannot serve as trust roots, or nil.
    public static func problem(rootFile: String) -> String? {
        do {
            guard !(try NIOSSLCertificate.fromPEMFile(rootFile)).isEmpty else { return "\(rootFile) holds no certificate" }
            return nil
        } catch {
            return "\(rootFile) is not a readable PEM certificate file"
        }
    }

    /// The pool trusting `rootFile` (it must pass `problem(rootFile:)`), never following redirects; a failed
    /// connection fails its request at once.
    public static func client(rootFile: String) throws -> HTTPClient {
        try pools.withLock { pools in
            if let pool = pools[rootFile] { return pool }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootFile))
            tls.minimumTLSVersion = .tlsv12
            var configuration = HTTPClient.Configuration.ember(tls: tls)
            // A certificate the roots do not cover fails every handshake: say so at once instead of retrying until the
            // request's deadline (the agent's own loop retries with backoff; the CLI reports it).
            configuration.connectionPool.retryConnectionEstablishment = false
            let pool = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            pools[rootFile] = pool
            return pool
        }
    }
}

extension RegistryClient {
    /// `POST /accounts` (admin role).
    public func createAccount(name: String) async throws -> Account {
        let body = try JSONEncoder().encode(AccountRequest(name: name))
        return try decode(
            Account.self,
            try await send(.POST, "/accounts", headers: [("Content-Type", "application/json")], body: body),
            expecting: 201
        )
    }

    /// `GET /accounts`.
    public func accounts() async throws -> [Account] {
        struct List: Decodable { var accounts: [Account] }
        return try decode(List.self, try await send(.GET, "/accounts"), expecting: 200).accounts
    }

    /// `POST /claim-tokens` with a user token.
    public func mintClaimToken() async throws -> ClaimTokenCreated {
        try decode(ClaimTokenCreated.self, try await send(.POST, "/claim-tokens"), expecting: 201)
    }

    /// `DELETE /devices/{uuid}/owner`.
    public func releaseOwner(_ uuid: String) async throws {
        try expect(try await send(.DELETE, "/devices/\(uuid)/owner"), status: 204)
    }
}
