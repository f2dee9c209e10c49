import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The load balancers whose `X-Forwarded-For` Ember believes: a list of CIDR blocks (IPv4 or IPv6).
public struct TrustedProxies: Sendable, Equatable {
    struct Block: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for (a, b) in zip(address, bytes) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a & mask != b & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    let blocks: [Block]

    /// No proxy is trusted: the socket's peer is the client.
    public static let none = TrustedProxies(blocks: [])

    private init(blocks: [Block]) {
        self.blocks = blocks
    }

    /// Parses `10.0.0.0/8, 127.0.0.1, ::1/128`; a bare address is a single host.
    public init(_ list: String) throws {
        var blocks: [Block] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let bytes = Self.bytes(of: parts[0]) else {
                throw RegistryError.badRequest("trusted proxy '\(item)' is not an IP address or CIDR block")
            }
            let prefix = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...(bytes.count * 8)).contains(prefix) else {
                throw RegistryError.badRequest("trusted proxy '\(item)' has an invalid prefix length")
            }
            blocks.append(Block(bytes: bytes, prefix: prefix))
        }
        self.blocks = blocks
    }

    /// Whether `address` (text) lies in one of the blocks.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.bytes(of: address) else { return false }
        return blocks.contains { $0.contains(bytes) }
    }

    /// The client of a request: walking `X-Forwarded-For` from the right past trusted proxies, starting at the peer.
    /// Untrusted peers' headers are ignored, so a client cannot spoof its address.
    public func client(peer: String, forwardedFor: String?) -> String {
        guard contains(peer), let forwardedFor else { return peer }
        var client = peer
        for hop in forwardedFor.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).reversed() {
            guard Self.bytes(of: hop) != nil else { break }
            client = hop
            guard contains(hop) else { break }
        }
        return client
    }

    /// The address bytes of IPv4 or IPv6 text, parsed by NIO.
    static func bytes(of text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4(let v4): return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6): return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default: return nil
        }
    }
}
