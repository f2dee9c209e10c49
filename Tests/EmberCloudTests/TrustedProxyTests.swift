import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import EmberHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOFoundationEssentialsCompat
import Testing

/// `X-Forwarded-For` is believed only from trusted proxies.
struct TrustedProxyTests {
    @Test func clientIsTheLastUntrustedHop() throws {
        let proxies = try TrustedProxies("10.0.0.0/8, 127.0.0.1, ::1")
        #expect(proxies.client(peer: "10.1.2.3", forwardedFor: "198.51.100.9, 203.0.113.7") == "203.0.113.7")
        #expect(proxies.client(peer: "10.1.2.3", forwardedFor: "203.0.113.7, 10.9.9.9") == "203.0.113.7")
        #expect(proxies.client(peer: "::1", forwardedFor: "2001:db8::1") == "2001:db8::1")
        #expect(proxies.client(peer: "192.0.2.1", forwardedFor: "203.0.113.7") == "192.0.2.1")  // untrusted peer
        #expect(proxies.client(peer: "10.1.2.3", forwardedFor: nil) == "10.1.2.3")
        #expect(proxies.client(peer: "10.1.2.3", forwardedFor: "not-an-ip") == "10.1.2.3")
        #expect(TrustedProxies.none.client(peer: "127.0.0.1", forwardedFor: "203.0.113.7") == "127.0.0.1")
        #expect(proxies.contains("10.255.0.1") && !proxies.contains("11.0.0.1") && !proxies.contains("garbage"))
    }

    @Test(arguments: ["10.0.0.0/33", "300.1.1.1", "10.0.0.0/x", "example.com", "/", "10.0.0.0/", "/8", "10.0.0.0//8"])
    func malformedProxyListsAreRefused(list: String) {
        #expect(throws: RegistryError.self) { try TrustedProxies(list) }
    }

    /// Registers with a bad key over a real socket (peer 127.0.0.1) and returns the audit row's client address.
    static func auditedClient(on database: TestDatabase, trusting list: String, forwardedFor: String) async throws -> String? {
        var result: String?
        try await database.withStore { store in
            var configuration = RegistryConfiguration()
            configuration.trustedProxies = try TrustedProxies(list)
            let registry = Registry(configuration: configuration, store: store, clock: ManualClock())
            let app = Application(
                router: registry.buildRouter(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: TestRegistry.logger
            )
            try await app.test(.live) { client in
                let body = try JSONEncoder().encode(SimulatedDevice().registrationBody())
                let response = try await client.execute(
                    uri: "/devices/register",
                    method: .post,
                    headers: [.xRegistrationKey: "NOPE00", .contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: forwardedFor],
                    body: ByteBuffer(data: body)
                )
                #expect(response.status == .unauthorized)
            }
            result = try await store.auditEntries(limit: 10, after: nil).first { $0.action == "registration.refused" }?.client
        }
        return result
    }

    @Test(arguments: TestDatabase.all)
    func forwardedAddressIsUsedBehindATrustedProxy(database: TestDatabase) async throws {
        #expect(try await Self.auditedClient(on: database, trusting: "127.0.0.0/8", forwardedFor: "203.0.113.7") == "203.0.113.7")
    }

    @Test(arguments: TestDatabase.all)
    func spoofedHeaderFromAnUntrustedPeerIsIgnored(database: TestDatabase) async throws {
        #expect(try await Self.auditedClient(on: database, trusting: "10.0.0.0/8", forwardedFor: "203.0.113.7") == "127.0.0.1")
    }
}
