import EmberClient
import EmberCore
import EmberFleet
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The security review's finding 4 against the real binary: live registration keys were readable in the database
/// file. Now a copy of the database alone holds none, and the listing still shows the owner's full keys.
@Suite(.serialized)
struct KeysAtRestTests {
    static let bootstrap = "e2e-bootstrap-token-0123456789"

    @Test func liveKeysAreNotInTheDatabaseFilesAndStillListAndSpend() async throws {
        try await withTemporaryFolder { folder in
            let data = folder.appendingPathComponent("data")
            let database = "sqlite:\(data.path)/ember.sqlite"
            let first = try await EmberProcess(database: database, folder: folder, environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap])
            let admin = RegistryClient(baseURL: first.baseURL, token: Self.bootstrap)
            let keys = try await [admin.mintKey().key, admin.mintKey().key]
            #expect(try await first.stop(signal: SIGKILL) != 0, "killed: the WAL still holds the latest writes")

            for name in try FileManager.default.contentsOfDirectory(atPath: data.path) where name.hasPrefix("ember.sqlite") {
                let bytes = try Data(contentsOf: data.appendingPathComponent(name))
                for key in keys { #expect(bytes.range(of: Data(key.utf8)) == nil, "\(name) holds the key \(key.prefix(2))****") }
            }
            let kek = data.appendingPathComponent("key-encryption.key")
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: kek.path)[.posixPermissions] as? Int)
            #expect(mode == 0o600)

            let second = try await EmberProcess(database: database, folder: folder, arguments: ["--require-signature-v2"])
            let again = RegistryClient(baseURL: second.baseURL, token: Self.bootstrap)
            #expect(Set(try await again.listKeys().map(\.key)) == Set(keys), "FireFly's listing shows the full keys")
            #expect(try await again.register(try SimulatedDevice().registrationBody(), key: keys[0].lowercased()).status == 204)
            #expect(try await again.listKeys().map(\.key) == [keys[1]])
            #expect(try await second.stop(signal: SIGTERM) == 0)
            #expect(!second.output.contains("v1 device signatures are accepted"), "no v1 warning when v1 is refused")

            // Another key-encryption key cannot open these keys: the start is refused with what to do.
            let other = Data((0..<32).map { UInt8($0) }).base64EncodedString()
            let refused = try await EmberProcess.run(
                ["serve", "--database", database, "--port", "0"],
                environment: ["EMBER_KEY_ENCRYPTION_KEY": other]
            )
            #expect(refused.status != 0 && refused.output.contains("give every instance the same EMBER_KEY_ENCRYPTION_KEY"), "\(refused.output)")
            let malformed = try await EmberProcess.run(
                ["serve", "--database", database, "--port", "0"],
                environment: ["EMBER_KEY_ENCRYPTION_KEY": "short"]
            )
            #expect(malformed.status != 0 && malformed.output.contains("must hold 32 bytes in Base64"), "\(malformed.output)")
        }
    }
}
