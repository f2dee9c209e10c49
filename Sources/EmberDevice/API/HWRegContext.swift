import EmberHTTP
import Foundation
import Hummingbird

/// The request context of the device's API: Hummingbird's storage and the client's address.
public struct HWRegContext: ClientAddressContext {
    public var coreContext: CoreRequestContextStorage
    public var clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.peerAddress
    }

    /// FireFly's JSON handler limit.
    public var maxUploadSize: Int { 16 * 1024 }

    /// JSON as FireFly writes it: slashes unescaped.
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}
