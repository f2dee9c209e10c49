import Hummingbird
import NIOCore

/// A request context that knows the client's address (for rate limits and audit rows).
public protocol ClientAddressContext: RequestContext {
    /// The client's IP address; `unknown` when there is no socket, as in router tests.
    var clientAddress: String { get set }
}

extension ApplicationRequestContextSource {
    /// The connecting peer's IP address, or `unknown`.
    public var peerAddress: String {
        channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
