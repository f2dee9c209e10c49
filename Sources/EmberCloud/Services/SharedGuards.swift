import Foundation
import Logging
import ServiceLifecycle

/// Remembers nonces for the acceptance window: in memory for one instance, in the database for several.
protocol NonceGuard: Sendable {
    func record(device: String, nonce: Data, expiresAt: Int64, now: Int64) async throws -> ReplayCache.Decision
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
    let store: any Store

    func record(device: String, nonce: Data, expiresAt: Int64, now: Int64) async throws -> ReplayCache.Decision {
        try await store.recordNonce(device: device, nonce: nonce.base64EncodedString(), expiresAt: expiresAt, now: now) ? .fresh : .replayed
    }
}

/// The failed-attempt limit of instances that share a database.
struct SharedFailureCounter: FailureCounter {
    let store: any Store
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

/// Deletes expired shared nonces and old failure records every 30 s until shutdown.
struct GuardSweeper: Service {
    let store: any Store
    let clock: any RegistryClock
    let failureWindow: Int64
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(30))
                let now = clock.now()
                do {
                    try await store.purgeGuards(now: now, failuresBefore: now - failureWindow)
                } catch {
                    logger.warning("could not purge expired nonces and failure records")
                }
            }
        }
    }
}
