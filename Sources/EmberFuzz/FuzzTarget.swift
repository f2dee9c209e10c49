import Crypto
import EmberCloud
import EmberCore
import Foundation

/// The parsers that read what an attacker sends, each with the properties that must hold for any input. `run`
/// traps when one does not, which is what a fuzzer looks for (besides crashes of the parser itself).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The FFCE container header, and opening a blob with a fixed key.
    case ffce
    /// The four signed-request headers and the version header (one per line), and the timestamp.
    case signedHeaders = "signed-headers"
    /// `POST /devices/register`'s JSON body and its validation.
    case registration
    /// `--trusted-proxies` CIDR lists, and the client address they derive from `X-Forwarded-For`.
    case cidr
    /// HW-Reg's `POST /api/identity` body.
    case identity

    static let key = SymmetricKey(data: Data(repeating: 7, count: 32))

    /// Feeds one input to the target's parser and checks its properties.
    public func run(_ data: Data) {
        switch self {
        case .ffce: Self.ffce(data)
        case .signedHeaders: Self.signedHeaders(data)
        case .registration: Self.registration(data)
        case .cidr: Self.cidr(data)
        case .identity: Self.identity(data)
        }
    }

    private static func ffce(_ data: Data) {
        guard let header = try? FFCEContainer.header(of: data) else { return }
        check(Int(header.plaintextLength) == data.count - FFCEContainer.headerLength, "the header's length is the body's")
        if let plaintext = try? FFCEContainer.open(data, using: key) {
            check(plaintext.count == Int(header.plaintextLength), "an opened blob has the declared length")
        }
    }

    private static func signedHeaders(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func line(_ index: Int) -> String? { index < lines.count ? lines[index] : nil }
        if let request = try? SignedRequest(uuid: line(0), nonce: line(1), timestamp: line(2), signature: line(3), version: line(4)) {
            check(request.nonce.count == SignedRequest.nonceLength, "a parsed nonce has 32 bytes")
            check(DeviceTimestamp(request.timestamp.text) == request.timestamp, "a parsed timestamp prints back to itself")
        }
        if let timestamp = DeviceTimestamp(text) {
            check(DeviceTimestamp(timestamp.text) == timestamp, "a timestamp prints back to itself")
            check(DeviceTimestamp(epochSeconds: timestamp.epochSeconds) == timestamp, "a timestamp is its epoch seconds")
        }
    }

    private static func registration(_ data: Data) {
        guard let request = try? WireDecoder.decode(RegistrationRequest.self, from: data),
            let registration = try? request.validated()
        else { return }
        guard let encoded = try? JSONEncoder().encode(request) else { return check(false, "a valid body encodes") }
        let again = try? WireDecoder.decode(RegistrationRequest.self, from: encoded).validated()
        check(again?.uuid == registration.uuid && again?.publicKey == registration.publicKey, "a valid body survives a round trip")
        check(!DeviceUUID.format(registration.uuid).contains { $0.isUppercase }, "UUIDs are stored lower-case")
    }

    private static func cidr(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        let halves = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let proxies = try? TrustedProxies(halves[0]) else { return }
        let forwarded = halves.count > 1 ? halves[1] : nil
        for peer in ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::1"] {
            let client = proxies.client(peer: peer, forwardedFor: forwarded)
            check(client == peer || forwarded?.contains(client) == true, "the client is the peer or one of the forwarded hops")
            if !proxies.contains(peer) { check(client == peer, "an untrusted peer's header is ignored") }
        }
    }

    private static func identity(_ data: Data) {
        guard let request = try? WireDecoder.decode(IdentityRequest.self, from: data), let valid = try? request.validated() else { return }
        check(ProductHex(valid.productHex.description) == valid.productHex, "a product hex prints back to itself")
        check(DeviceUUID.parse(DeviceUUID.format(valid.uuid)) == valid.uuid, "a UUID prints back to itself")
    }

    private static func check(_ condition: Bool, _ property: @autoclosure () -> String) {
        if !condition { fatalError("property violated: \(property())") }
    }
}
