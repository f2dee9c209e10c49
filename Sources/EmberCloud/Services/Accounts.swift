import EmberCore
import EmberHTTP
import Foundation
import Logging

/// Accounts, claim tokens and device claims (lifecycle §7).
struct Accounts: Sendable {
    let store: any AccountRepository & DeviceRepository
    let clock: any RegistryClock
    let limiter: any FailureCounter
    let metrics: EmberMetrics

    func create(_ body: Data, by actor: AuditActor) async throws -> Account {
        let name: String
        do throws(WireError) {
            let request = try WireDecoder.decode(AccountRequest.self, from: body)
            guard let given = request.name else { throw WireError("Field name is required") }
            if let problem = AccountRequest.nameProblem(given) { throw WireError("Field name \(problem)") }
            name = given
        } catch {
            throw RegistryError.badRequest(error.message)
        }
        let account = Account(id: UUID().uuidString.lowercased(), name: name, createdAt: clock.now(), createdBy: actor.actor)
        let audit = AuditEvent(at: clock.now(), by: actor, action: "account.created", subject: account.id, detail: name)
        guard try await store.createAccount(account, audit: audit) else { throw RegistryError.conflict("An account named \(name) exists already") }
        return account
    }

    func all() async throws -> [Account] { try await store.accounts() }

    /// A claim token for the caller's account (a `user` token).
    func mintClaimToken(for caller: AdminTokenRecord, client: String) async throws -> ClaimTokenCreated {
        guard caller.role == .user, let account = caller.accountID else {
            throw RegistryError.forbidden("Claim tokens belong to an account: use a user token (ember admin token create --role user --account ID)")
        }
        let token = ClaimToken.generate()
        let now = clock.now()
        let expiresAt = now + ClaimToken.lifetime
        try await store.insertClaimToken(
            hash: WebToken.hash(token),
            account: account,
            createdBy: caller.name,
            expiresAt: expiresAt,
            audit: AuditEvent(
                at: now,
                by: AuditActor(actor: caller.name, client: client),
                action: "claim_token.created",
                subject: account,
                detail: "expires \(DeviceTimestamp(epochSeconds: expiresAt).text)"
            )
        )
        return ClaimTokenCreated(claimToken: token, expiresAt: expiresAt)
    }

    private func rateLimited(_ retryAfter: Int64) -> any Error {
        metrics.claim("rate_limited")
        return RegistryError.tooManyRequests("Too many failed claim attempts; retry later", retryAfter: retryAfter)
    }

    /// `POST /devices/{uuid}/claim`: a failed token counts against the client's limit, like a registration key.
    func claim(_ device: DeviceCredential, body: Data, client: String, logger: Logger) async throws -> ClaimReply {
        let token: String
        do throws(WireError) { token = try ClaimToken.normalized(try WireDecoder.decode(ClaimRequest.self, from: body).claimToken) } catch {
            throw RegistryError.badRequest(error.message)
        }
        let now = clock.now()
        if let retryAfter = try await limiter.retryAfter(client: client, now: now) { throw rateLimited(retryAfter) }
        let outcome = try await limiter.attempt(client: client, now: now, blocked: rateLimited) {
            do {
                let outcome = try await store.claim(
                    uuid: device.uuid,
                    tokenHash: WebToken.hash(token),
                    now: now,
                    by: AuditActor(actor: "device:\(device.uuid)", client: client)
                )
                return (outcome, outcome == .invalidToken)
            } catch StoreError.contended {
                throw RegistryError.unavailable("Concurrent claims of this device; retry in a second", retryAfter: 1)
            }
        }
        switch outcome {
        case .claimed(let account):
            metrics.claim("claimed")
            logger.info("device claimed", metadata: ["ember.device.uuid": "\(device.uuid)", "ember.account": "\(account)"])
            return ClaimReply(accountID: account)
        case .alreadyOwned(let account):
            metrics.claim("already_owned")
            return ClaimReply(accountID: account)
        case .invalidToken:
            metrics.claim("invalid_token")
            throw RegistryError.unauthorized("Invalid or expired claim token")
        case .ownedByAnother:
            metrics.claim("conflict")
            throw RegistryError.conflict("Device already claimed by another account")
        }
    }

    /// `DELETE /devices/{uuid}/owner`: a user releases its own device; an admin any device.
    func release(uuid: String, by caller: AdminTokenRecord, client: String) async throws {
        guard let canonical = DeviceUUID.parse(uuid).map(DeviceUUID.format) else { throw RegistryError.notFound("Device not found") }
        let scope: String? = caller.role == .user ? caller.accountID : nil
        let audit = AuditEvent(at: clock.now(), by: AuditActor(actor: caller.name, client: client), action: "device.released", subject: canonical)
        guard try await store.releaseOwner(uuid: canonical, account: scope, audit: audit) else {
            throw RegistryError.notFound(caller.role == .user ? "Device not found" : "Device not found or not claimed")
        }
    }
}
