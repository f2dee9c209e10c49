import EmberCore
import Synchronization

/// The OLED's visual token and the authorizations `POST /auth` makes from it.
///
/// The displayed token is 6 characters from `ACDEFGHJKLMNPRTUVWXY3467` (all 24, unlike FireFly's generator) and
/// changes every 60 s. `POST /auth` with it makes an authorization that lasts 60 minutes, fixed, lost at reboot.
/// Headers are compared whole and in constant time. A client that sends too many wrong tokens is refused
/// for the rest of the minute, even with a right one.
public final class VisualTokens: Sendable {
    /// The token alphabet: no look-alike characters.
    public static let alphabet: [Character] = VisualAlphabet.characters
    /// Characters in a token.
    public static let length = 6

    /// The outcome of checking a `visual-token` header.
    public enum Decision: Equatable, Sendable {
        case accepted
        case missing
        case wrong
        /// Too many wrong tokens from this client; try again after this many seconds.
        case limited(retryAfter: Int)
    }

    private struct State {
        var current: String
        var issuedAt: Double
        var authorizations: [(token: String, expires: Double)] = []
        var failures: [String: [Double]] = [:]
    }

    let tokenLifetime: Double
    let authorizationLifetime: Double
    let maxFailures: Int
    let failureWindow: Double
    private let clock: any DeviceClock
    private let state: Mutex<State>

    /// Tokens on `clock`; the lifetimes and limits are FireFly's unless given.
    public init(
        clock: any DeviceClock,
        tokenLifetime: Double = 60,
        authorizationLifetime: Double = 3600,
        maxFailures: Int = 10,
        failureWindow: Double = 60
    ) {
        self.clock = clock
        self.tokenLifetime = tokenLifetime
        self.authorizationLifetime = authorizationLifetime
        self.maxFailures = maxFailures
        self.failureWindow = failureWindow
        self.state = Mutex(State(current: Self.generate(), issuedAt: clock.uptime()))
    }

    /// A fresh random token.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The token on the OLED now and the seconds it has left; rotates it when its minute is over.
    public func current() -> (token: String, secondsLeft: Double) {
        let now = clock.uptime()
        return state.withLock { state in
            if now - state.issuedAt >= tokenLifetime {
                state.current = Self.generate()
                state.issuedAt = now
            }
            return (state.current, tokenLifetime - (now - state.issuedAt))
        }
    }

    /// Checks a header from `client`; with `retain`, an accepted displayed token becomes a 60-minute authorization.
    public func check(_ header: String?, client: String, retain: Bool = false) -> Decision {
        let (displayed, _) = current()
        let now = clock.uptime()
        return state.withLock { state in
            state.authorizations.removeAll { $0.expires <= now }
            if state.failures.count > 1_000 { state.failures = state.failures.filter { $0.value.contains { now - $0 < failureWindow } } }
            var recent = (state.failures[client] ?? []).filter { now - $0 < failureWindow }
            if recent.count >= maxFailures {
                state.failures[client] = recent
                return .limited(retryAfter: max(1, Int((failureWindow - (now - recent[0])).rounded(.up))))
            }
            guard let header, !header.isEmpty else { return .missing }
            let matchesDisplayed = Self.equal(header, displayed)
            var matchesRetained = false
            for authorization in state.authorizations where Self.equal(header, authorization.token) { matchesRetained = true }
            guard matchesDisplayed || matchesRetained else {
                recent.append(now)
                state.failures[client] = recent
                return .wrong
            }
            if retain && matchesDisplayed && !matchesRetained {
                state.authorizations.append((displayed, now + authorizationLifetime))
            }
            return .accepted
        }
    }

    /// Forgets every authorization (a reboot) and shows a new token.
    public func reset() {
        let now = clock.uptime()
        state.withLock { $0 = State(current: Self.generate(), issuedAt: now) }
    }

    /// Whole-value comparison whose time does not depend on where the values differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
