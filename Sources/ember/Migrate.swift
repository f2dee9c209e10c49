import ArgumentParser
import EmberCloud
import Foundation
import Logging

/// `ember migrate …`: schema migrations, for deployments that migrate before starting instances.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply or list database migrations (ember serve also applies them at start).",
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await withStore(database, migrate: false) { store in
                let before = try await store.migrationStatus().filter { $0.appliedAt == nil }
                try await store.migrate(now: SystemClock().now())
                print(before.isEmpty ? "database is up to date" : "applied \(before.map { "\($0.version) \($0.name)" }.joined(separator: ", "))")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List migrations and whether each is applied.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withStore(database, migrate: false) { store in
                let states = try await store.migrationStatus()
                if json {
                    print(try JSONOutput.encode(states))
                } else {
                    print(
                        Table.render(
                            headers: ["VERSION", "NAME", "APPLIED"],
                            rows: states.map { [String($0.version), $0.name, $0.appliedAt.map(Table.time) ?? "pending"] }
                        )
                    )
                }
            }
        }
    }
}
