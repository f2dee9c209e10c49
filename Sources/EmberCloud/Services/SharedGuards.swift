import Foundation
import Logging
import ServiceLifecycle

/// What a nonce guard decided about one signed request's nonce.
public enum NonceDecision: Sendable, Equatable {
    case fresh
    case replayed
    /// The guard is full of live nonces; refuse rather than forget one.
    case full
}

/// Remembers nonces for the acceptance window: in memory for one instance, in the database for several.
protocol NonceGuard: Sendable {
    func record(device: String, nonce: Data, expiresAt: Int64, now: Int64) async throws -> NonceDecision
}

/// Guard state with expiring entries, which `GuardSweeper` clears on a schedule.
protocol Sweepable: Sendable {
    func sweep(now: Int64) async throws
}

/// Counts failed registration-key attempts per client: in memory for one instance, in the database for several.
protocol FailureCounter: Sendable {
    /// Seconds the client must wait, or nil when it may try.
    func retryAfter(client: String, now: Int64) async throws -> Int64?
    func recordFailure(client: String, now: Int64) async throws
}

extension ReplayCache: NonceGuard {}
extension FailureLimiter: FailureCounter {}

/// The nonce guard of instances that share a database: a replay sent to another instance is refused too.
struct SharedNonceGuard: NonceGuard {
    let store: any GuardRepository

    func record(device: String, nonce: Data, expiresAt: Int64, now: Int64) async throws -> NonceDecision {
        try await store.recordNonce(device: device, nonce: nonce.base64EncodedString(), expiresAt: expiresAt, now: now) ? .fresh : .replayed
    }
}

/// The failed-attempt limit of instances that share a database.
struct SharedFailureCounter: FailureCounter {
    let store: any GuardRepository
    let limit: Int
    let window: Int64

    func retryAfter(client: String, now: Int64) async throws -> Int64? {
        let failures = try await store.registrationFailures(client: client, since: now - window)
        guard failures.count >= limit, let oldest = failures.oldest else { return nil }
        return max(1, oldest + window - now)
    }

    func recordFailure(client: String, now: Int64) async throws {
        try await store.recordRegistrationFailure(client: client, at: now)
    }
}

/// The shared guards' tables: expired nonces and old failure records are deleted in one sweep.
struct SharedGuardTables: Sweepable {
    let store: any GuardRepository
    let failureWindow: Int64

    func sweep(now: Int64) async throws {
        try await store.purgeGuards(now: now, failuresBefore: now - failureWindow)
    }
}

extension ReplayCache: Sweepable {}
extension FailureLimiter: Sweepable {}
extension AuthFailureAudit: Sweepable {}

/// Sweeps every guard (in memory or in the shared database) every `interval` seconds until shutdown, so no live
/// request pays for expiry.
struct GuardSweeper: Service {
    let guards: [any Sweepable]
    let clock: any RegistryClock
    var interval: Duration = .seconds(30)
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                await sweepOnce()
            }
        }
    }

    /// One sweep of every guard at the clock's time.
    func sweepOnce() async {
        let now = clock.now()
        for item in guards {
            do {
                try await item.sweep(now: now)
            } catch {
                logger.warning("could not sweep expired guard entries", metadata: ["ember.guard": "\(type(of: item))"])
            }
        }
    }
}
