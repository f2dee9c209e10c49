import ArgumentParser
import EmberCloud
import Foundation
import Logging

/// `ember admin …`: administration on the database itself (no server needed).
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer the registry's database directly.",
        subcommands: [Token.self]
    )

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Admin API tokens: shown once at creation, stored as SHA-256.",
            subcommands: [Create.self, List.self, Revoke.self]
        )
    }
}

extension Admin.Token {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it (it cannot be shown again).")
        @Option(help: "A unique name for the token, e.g. factory-line-3.") var name: String
        @Option(help: "admin (everything), operator (registration keys, read devices) or user (one account's devices).")
        var role: AdminRole = .operator
        @Option(help: "With --role user: the account's id (ember accounts list).") var account: String?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard (role == .user) == (account != nil) else {
                throw ValidationError(role == .user ? "--role user needs --account ID" : "--account goes with --role user")
            }
        }

        func run() async throws {
            try await withStore(database) { store in
                let token = try await AdminTokens(store: store, clock: SystemClock()).create(name: name, role: role, account: account, by: .cli)
                print(token)
                FileHandle.standardError.write(Data("created \(role.rawValue) token '\(name)'; store it now, it is not shown again\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names and roles, never values).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withStore(database) { store in
                let tokens = try await store.adminTokens()
                if json {
                    print(try JSONOutput.encode(tokens))
                } else {
                    print(
                        Table.render(
                            headers: ["NAME", "ROLE", "CREATED", "REVOKED"],
                            rows: tokens.map { [$0.name, $0.role.rawValue, Table.time($0.createdAt), $0.revokedAt.map(Table.time) ?? "-"] }
                        )
                    )
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name.")
        @Argument(help: "The token's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await withStore(database) { store in
                guard try await AdminTokens(store: store, clock: SystemClock()).revoke(name: name, by: .cli) else {
                    throw ValidationError("no active token named '\(name)'")
                }
                print("revoked token '\(name)'")
            }
        }
    }
}

extension AdminRole: ExpressibleByArgument {}

extension AuditActor {
    static let cli = AuditActor(actor: "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")", client: "local")
}

/// Opens (and by default migrates) the database, runs `body`, and closes it even when `body` throws.
func withStore(_ options: DatabaseOptions, migrate: Bool = true, _ body: (any Store) async throws -> Void) async throws {
    var logger = Logger(label: "ember")
    logger.logLevel = .warning
    let store = try await RegistryServer.openStore(options.resolved, logger: logger)
    do {
        if migrate { try await store.migrate(now: SystemClock().now()) }
        try await body(store)
        try await store.close()
    } catch {
        try? await store.close()
        throw error
    }
}
