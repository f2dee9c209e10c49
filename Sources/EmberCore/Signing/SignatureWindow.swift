/// The acceptance window of signed requests: a request is fresh when its timestamp is within ±window of now.
public struct SignatureWindow: Sendable, Equatable {
    /// FireFly's window: ±10 seconds.
    public static let standard = SignatureWindow(seconds: 10)

    /// Half-width of the window in seconds.
    public let seconds: Int64

    /// A window of ±`seconds`.
    public init(seconds: Int64) {
        self.seconds = seconds
    }

    /// Whether `timestamp` lies within ±`seconds` of `now` (inclusive).
    public func contains(_ timestamp: DeviceTimestamp, now: DeviceTimestamp) -> Bool {
        let delta = timestamp.epochSeconds - now.epochSeconds
        return delta >= -seconds && delta <= seconds
    }
}
