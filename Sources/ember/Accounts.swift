import ArgumentParser
import EmberClient
import EmberCore
import Foundation

/// `ember accounts …` and `ember claim-token create`: field provisioning's accounts over the API (lifecycle §7).
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Create and list registry accounts (admin role); user tokens belong to one.",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account and print its id.",
            discussion: "Then: ember admin token create --name NAME --role user --account ID"
        )
        @OptionGroup var options: ServerOptions
        @Argument(help: "The account's name (unique).") var name: String

        func run() async throws {
            let account = try await options.call { try await $0.createAccount(name: name) }
            if options.json { print(try JSONOutput.encode(account)) } else { print("Created account \(account.name): \(account.id)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let accounts = try await options.call { try await $0.accounts() }
            if options.json {
                print(try JSONOutput.encode(accounts))
            } else {
                print(
                    Table.render(
                        headers: ["ID", "NAME", "CREATED", "BY"],
                        rows: accounts.map { [$0.id, $0.name, $0.createdAt.map(Table.time) ?? "-", $0.createdBy ?? "-"] }
                    )
                )
            }
        }
    }
}

struct ClaimTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claim-token",
        abstract: "Claim tokens bind a device to your account in the field.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mint a claim token with a user token: 8 characters, single use, 15 minutes.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let created = try await options.call { try await $0.mintClaimToken() }
            if options.json {
                print(try JSONOutput.encode(created))
            } else {
                print(created.claimToken)
                FileHandle.standardError.write(Data("valid until \(Table.time(created.expiresAt)), for one device\n".utf8))
            }
        }
    }
}
