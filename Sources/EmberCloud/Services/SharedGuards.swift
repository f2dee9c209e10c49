import Foundation
import Logging
import ServiceLifecycle

/// Guard state with expiring entries, which `GuardSweeper` clears on a schedule.
protocol Sweepable: Sendable {
    func sweep(now: Int64) async throws
}

/// One attempt's identity, so releasing it un-counts exactly that attempt.
typealias AttemptID = String

extension AttemptID {
    static func randomAttempt() -> AttemptID { UUID().uuidString }
}

/// What reserving an attempt decided.
enum AttemptReservation: Sendable, Equatable {
    /// The attempt counts as a failure until released.
    case granted(AttemptID)
    case blocked(retryAfter: Int64)
}

/// Counts failed attempts per client: in memory for one instance, in the database for several. Checking the limit
/// and counting the attempt are one step, so concurrent attempts cannot slip past the limit.
protocol FailureCounter: Sendable {
    /// Seconds the client must wait, or nil when it may try (a cheap early check; `reserve` decides).
    func retryAfter(client: String, now: Int64) async throws -> Int64?
    /// Counts one attempt about to be judged, or says how long the client must wait.
    func reserve(client: String, now: Int64) async throws -> AttemptReservation
    /// Un-counts an attempt that did not fail.
    func release(client: String, id: AttemptID) async throws
}

extension FailureCounter {
    /// Runs `judge` as one reserved attempt: it stays counted when `judge` says it failed, and is released when it
    /// passed or could not be judged (an error). `blocked` builds the error of a client over the limit.
    func attempt<T: Sendable>(
        client: String,
        now: Int64,
        blocked: (Int64) -> any Error,
        _ judge: () async throws -> (result: T, failed: Bool)
    ) async throws -> T {
        let id: AttemptID
        switch try await reserve(client: client, now: now) {
        case .granted(let granted): id = granted
        case .blocked(let seconds): throw blocked(seconds)
        }
        let outcome: (result: T, failed: Bool)
        do {
            outcome = try await judge()
        } catch {
            try? await release(client: client, id: id)
            throw error
        }
        if !outcome.failed { try await release(client: client, id: id) }
        return outcome.result
    }
}

extension FailureLimiter: FailureCounter {}

/// The failed-attempt limit of instances that share a database.
struct SharedFailureCounter: FailureCounter {
    let store: any GuardRepository
    let limit: Int
    let window: Int64

    func retryAfter(client: String, now: Int64) async throws -> Int64? {
        let failures = try await store.registrationFailures(client: client, since: now - window)
        return FailureLimiter.wait(count: failures.count, oldest: failures.oldest, limit: limit, window: window, now: now)
    }

    func reserve(client: String, now: Int64) async throws -> AttemptReservation {
        let id = AttemptID.randomAttempt()
        let recorded = try await store.reserveRegistrationAttempt(client: client, attempt: id, at: now, since: now - window, limit: limit)
        guard recorded.granted else {
            return .blocked(
                retryAfter: FailureLimiter.wait(count: recorded.count, oldest: recorded.oldest, limit: limit, window: window, now: now) ?? 1
            )
        }
        return .granted(id)
    }

    func release(client: String, id: AttemptID) async throws {
        try await store.releaseRegistrationAttempt(attempt: id)
    }
}

/// The guards' tables: expired nonces and old failure records are deleted in one sweep.
struct SharedGuardTables: Sweepable {
    let store: any GuardRepository
    let failureWindow: Int64

    func sweep(now: Int64) async throws {
        try await store.purgeGuards(now: now, failuresBefore: now - failureWindow)
    }
}

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
