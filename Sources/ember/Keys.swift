import ArgumentParser
import EmberClient
import EmberCore

/// `ember keys …`: registration keys over the admin API.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint, list and revoke single-use registration keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a key (6 characters, single use, expires after the TTL), or --count keys in one request."
        )
        @OptionGroup var options: ServerOptions
        @Option(help: "How many keys to mint.") var count = 1

        func validate() throws {
            guard (1...1_000).contains(count) else { throw ValidationError("--count must be 1…1000") }
        }

        func run() async throws {
            // One key the FireFly way; more in one request (one audit row).
            let created = try await options.call { client in
                guard count > 1 else { return [try await client.mintKey()] }
                let batch = try await client.mintKeys(count: count)
                return batch.keys.map { RegistrationKeyCreated(key: $0, expiresAt: batch.expiresAt) }
            }
            if options.json {
                print(try JSONOutput.encode(count == 1 ? AnyEncodable(created[0]) : AnyEncodable(created)))
            } else {
                print(Table.render(headers: ["KEY", "EXPIRES"], rows: created.map { [$0.key, Table.time($0.expiresAt)] }))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your unspent, unexpired keys, oldest first.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let keys = try await options.call { try await $0.listKeys() }
            if options.json {
                print(try JSONOutput.encode(RegistrationKeyList(registrationKeys: keys)))
            } else {
                print(
                    Table.render(
                        headers: ["KEY", "GENERATED", "EXPIRES"],
                        rows: keys.map { [$0.key, Table.time($0.generatedAt), Table.time($0.expiresAt)] }
                    )
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke one of your active keys.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The key.") var key: String

        func run() async throws {
            try await options.call { try await $0.revokeKey(key) }
            print(options.json ? "{\"revoked\":true}" : "revoked \(RegistrationKey.masked(key.uppercased()))")
        }
    }
}

/// Lets `--json` print either one object or a list.
struct AnyEncodable: Encodable {
    let encodeValue: (any Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeValue = value.encode }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}
