import Foundation
import Synchronization

/// Where the agent reads time; injected so tests age tokens without sleeping.
public protocol DeviceClock: Sendable {
    /// Monotonic seconds since an arbitrary start.
    func uptime() -> Double
    /// Wall-clock seconds since 1970 (meaningful once the board's clock is synchronized).
    func epochSeconds() -> Int64
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
}

/// A clock that moves only when told to.
public final class ManualDeviceClock: DeviceClock {
    private let state: Mutex<(uptime: Double, epoch: Int64)>

    /// A clock at uptime 0 and `epoch`.
    public init(epoch: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.state = Mutex((0, epoch))
    }

    public func uptime() -> Double { state.withLock { $0.uptime } }
    public func epochSeconds() -> Int64 { state.withLock { $0.epoch } }

    /// Moves both clocks forward.
    public func advance(by seconds: Double) {
        state.withLock {
            $0.uptime += seconds
            $0.epoch += Int64(seconds)
        }
    }
}
