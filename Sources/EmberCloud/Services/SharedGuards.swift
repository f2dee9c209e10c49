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
    /// The attempt may be judged; it counts until it is confirmed (failed) or released (passed).
    case granted(AttemptID)
    /// Failures and attempts in flight fill the limit: wait for one to be decided.
    case busy
    case blocked(retryAfter: Int64)
}

/// Counts failed attempts per client: in memory for one instance, in the database for several. Checking the limit
/// and counting the attempt are one step, so concurrent attempts cannot slip past the limit.
protocol FailureCounter: Sendable {
    /// Seconds the client must wait, or nil when it may try (a cheap early check; `reserve` decides).
    func retryAfter(client: String, now: Int64) async throws -> Int64?
    /// Counts one attempt about to be judged; or says it must wait for attempts in flight, or how long the client
    /// is blocked.
    func reserve(client: String, now: Int64) async throws -> AttemptReservation
    /// Records a reserved attempt as failed.
    func confirm(client: String, id: AttemptID) async throws
    /// Un-counts an attempt that did not fail.
    func release(client: String, id: AttemptID) async throws
    /// Like `reserve`, but a busy client's attempt waits its turn, at most `patience` (then `busy`).
    func reserve(client: String, now: Int64, patience: Duration) async throws -> AttemptReservation
}

extension FailureCounter {
    /// Runs `judge` as one reserved attempt: confirmed as a failure when `judge` says it failed, released when it
    /// passed or could not be judged (an error). While other attempts of the client are in flight it waits its turn,
    /// at most `patience`; `blocked` builds the error of a client over the limit (or out of patience).
    func attempt<T: Sendable>(
        client: String,
        now: Int64,
        patience: Duration = .seconds(10),
        blocked: (Int64) -> any Error,
        _ judge: () async throws -> (result: T, failed: Bool)
    ) async throws -> T {
        let id: AttemptID
        switch try await reserve(client: client, now: now, patience: patience) {
        case .granted(let granted): id = granted
        case .blocked(let seconds): throw blocked(seconds)
        case .busy: throw blocked(1)
        }
        let outcome: (result: T, failed: Bool)
        do {
            outcome = try await judge()
        } catch {
            try? await release(client: client, id: id)
            throw error
        }
        if outcome.failed {
            try await confirm(client: client, id: id)
        } else {
            try await release(client: client, id: id)
        }
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
        switch recorded {
        case .granted: return .granted(id)
        case .busy: return .busy
        case .blocked(let failures, let oldest):
            return .blocked(retryAfter: FailureLimiter.wait(count: failures, oldest: oldest, limit: limit, window: window, now: now) ?? 1)
        }
    }

    func confirm(client: String, id: AttemptID) async throws {
        try await store.confirmRegistrationAttempt(attempt: id)
    }

    func release(client: String, id: AttemptID) async throws {
        try await store.releaseRegistrationAttempt(attempt: id)
    }

    /// Another instance may decide an attempt in flight: look again every 10 ms.
    func reserve(client: String, now: Int64, patience: Duration) async throws -> AttemptReservation {
        let deadline = ContinuousClock.now + patience
        while true {
            let reservation = try await reserve(client: client, now: now)
            guard reservation == .busy, ContinuousClock.now < deadline else { return reservation }
            try await Task.sleep(for: .milliseconds(10))
        }
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
