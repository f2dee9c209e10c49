/// What the store decided about a reserved attempt.
public enum StoredReservation: Sendable, Equatable {
    case granted
    /// Failures and attempts in flight fill the limit.
    case busy
    /// The failures alone fill it: how many, and the oldest.
    case blocked(failures: Int, oldest: Int64?)
}

/// The guards several instances share: nonces and failed key attempts.
public protocol GuardRepository: Sendable {
    /// Whether several registry instances can share this database (and so must share nonces and failure counts).
    var isShared: Bool { get }
    /// Records a nonce until `expiresAt`; false when it is held and unexpired (a replay). With `marksSignsV2`, a fresh
    /// nonce also records, in the same commit, that `device` signs v2 from `now` (a device marked before keeps its
    /// time): from then on its v1 headers are refused.
    func recordNonce(device: String, nonce: String, expiresAt: Int64, now: Int64, marksSignsV2: Bool) async throws -> Bool
    /// Records `attempt` of `client` at `at`, in flight, unless `client`'s failures and attempts in flight after
    /// `since` already reach `limit`; the check and the insert are one step, also across instances.
    func reserveRegistrationAttempt(
        client: String,
        attempt: String,
        at: Int64,
        since: Int64,
        limit: Int
    ) async throws
        -> StoredReservation
    /// Records a reserved attempt as failed.
    func confirmRegistrationAttempt(attempt: String) async throws
    /// Forgets a reserved attempt that did not fail.
    func releaseRegistrationAttempt(attempt: String) async throws
    /// The number of `client`'s failures after `since` (attempts in flight not counted), and the oldest of them.
    func registrationFailures(client: String, since: Int64) async throws -> (count: Int, oldest: Int64?)
    /// Deletes nonces and console sessions that expired, and failures older than `failuresBefore`.
    func purgeGuards(now: Int64, failuresBefore: Int64) async throws
}

extension GuardRepository {
    /// Records a nonce that marks nothing (onboarding, and devices known to sign v2).
    public func recordNonce(device: String, nonce: String, expiresAt: Int64, now: Int64) async throws -> Bool {
        try await recordNonce(device: device, nonce: nonce, expiresAt: expiresAt, now: now, marksSignsV2: false)
    }
}
