import Foundation
import Synchronization

/// Where the registry reads the time; injected so tests expire keys and windows without sleeping.
public protocol RegistryClock: Sendable {
    /// Seconds since 1970-01-01T00:00:00Z.
    func now() -> Int64
}

/// The system's wall clock.
public struct SystemClock: RegistryClock {
    public init() {}
    public func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}

/// A clock that moves only when told to: for tests and simulations.
public final class ManualClock: RegistryClock {
    private let current: Mutex<Int64>

    /// A clock that reads `start` until advanced.
    public init(start: Int64 = 1_767_225_600) {
        self.current = Mutex(start)
    }

    public func now() -> Int64 { current.withLock { $0 } }

    /// Moves the clock forward (or back, with a negative value).
    public func advance(by seconds: Int64) {
        current.withLock { $0 += seconds }
    }
}
