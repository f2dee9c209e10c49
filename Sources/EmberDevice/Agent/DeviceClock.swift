import Foundation
import Synchronization

/// The agent's timed jobs; a sleep names the one it belongs to, so a test can wait until that job is idle.
public enum Schedule: String, Sendable, CaseIterable {
    /// The visual token's rotation on the OLED.
    case tokenRotation = "token-rotation"
    /// The backoff between retries of a pending registration.
    case registrationRetry = "registration-retry"
    /// The backoff between retries of a field-provisioning step the cloud has not answered.
    case provisioningRetry = "provisioning-retry"
    /// The automatic cloud backup.
    case backup
    /// The simulated NTP sync.
    case clockSync = "clock-sync"
    /// The wait between check-ins.
    case checkIn = "check-in"
    /// The backoff between retries of a decommission notice.
    case decommissionNotice = "decommission-notice"
}

/// Where the agent reads time and waits; injected so tests move time instead of sleeping.
public protocol DeviceClock: Sendable {
    /// Monotonic seconds since an arbitrary start.
    func uptime() -> Double
    /// Wall-clock seconds since 1970 (meaningful once the board's clock is synchronized).
    func epochSeconds() -> Int64
    /// Waits `seconds` of uptime for `schedule`; throws `CancellationError` when the task is cancelled.
    func sleep(for seconds: Double, on schedule: Schedule) async throws
}

/// The system clocks.
public struct SystemDeviceClock: DeviceClock {
    private let start = ContinuousClock.now

    public init() {}

    public func uptime() -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    public func epochSeconds() -> Int64 { Int64(Date().timeIntervalSince1970) }

    public func sleep(for seconds: Double, on schedule: Schedule) async throws {
        try await Task.sleep(for: .milliseconds(Int((max(seconds, 0) * 1000).rounded(.up))))
    }
}

/// A clock that moves only when told to; its sleepers wake when `advance` passes their deadline.
public final class ManualDeviceClock: DeviceClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: Double
        var schedule: Schedule
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var uptime: Double = 0
        var epoch: Int64
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
    }

    private let state: Mutex<State>

    /// A clock at uptime 0 and `epoch`.
    public init(epoch: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.state = Mutex(State(epoch: epoch))
    }

    public func uptime() -> Double { state.withLock { $0.uptime } }
    public func epochSeconds() -> Int64 { state.withLock { $0.epoch } }

    public func sleep(for seconds: Double, on schedule: Schedule) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if seconds <= 0 { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: state.uptime + seconds, schedule: schedule, continuation: continuation))
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves both clocks forward and wakes every sleeper whose deadline has come.
    public func advance(by seconds: Double) {
        let woken = state.withLock { state -> [Sleeper] in
            state.uptime += seconds
            state.epoch += Int64(seconds)
            let uptime = state.uptime
            let due = state.sleepers.filter { $0.deadline <= uptime }
            state.sleepers.removeAll { $0.deadline <= uptime }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// How many sleeps of `schedule` are waiting now.
    public func sleeping(on schedule: Schedule) -> Int {
        state.withLock { $0.sleepers.count { $0.schedule == schedule } }
    }

    /// Seconds until the earliest sleep of `schedule` is due; nil when none waits.
    public func timeUntilDue(_ schedule: Schedule) -> Double? {
        state.withLock { state in state.sleepers.filter { $0.schedule == schedule }.map { $0.deadline - state.uptime }.min() }
    }
}
