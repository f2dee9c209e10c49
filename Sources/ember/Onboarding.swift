import ArgumentParser
import EmberClient
import EmberCore
import Foundation

/// `ember onboarding …`: zero-touch trust and pre-registrations over the admin API (lifecycle §6).
struct OnboardingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onboarding",
        abstract: "Trust onboarding roots and pre-register serials for zero-touch enrollment.",
        subcommands: [AddRoot.self, Roots.self, RemoveRoot.self, Preregister.self, Preregistrations.self, RemovePreregistration.self]
    )

    struct AddRoot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trust an onboarding root (admin role): its certificate's PEM file.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The root certificate, e.g. CA/onboarding-root.cert.pem.") var file: String

        func run() async throws {
            guard let pem = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
            let root = try await options.call { try await $0.addOnboardingRoot(pem: pem) }
            if options.json { print(try JSONOutput.encode(root)) } else { print("Trusted \(root.subject) (sha256 \(root.sha256))") }
        }
    }

    struct Roots: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the trusted onboarding roots.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let roots = try await options.call { try await $0.onboardingRoots() }
            if options.json {
                print(try JSONOutput.encode(roots))
            } else {
                print(
                    Table.render(
                        headers: ["SHA256", "SUBJECT", "EXPIRES", "ADDED", "BY"],
                        rows: roots.map { [$0.sha256, $0.subject, Table.time($0.notAfter), Table.time($0.addedAt), $0.addedBy] }
                    )
                )
            }
        }
    }

    struct RemoveRoot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop trusting an onboarding root; enrolled devices stay.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The root's SHA-256, as listed.") var sha256: String

        func run() async throws {
            try await options.call { try await $0.removeOnboardingRoot(sha256: sha256) }
            print("Removed the onboarding root \(sha256)")
        }
    }

    struct Preregister: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pre-register a serial: with --zero-touch allow-list only these enroll.",
            discussion: "The same as: ember devices preregister"
        )
        @OptionGroup var options: ServerOptions
        @Option(help: "The serial in the board's onboarding certificate.") var serial: String
        @Option(help: "Only this product may enroll with it, e.g. 0x08062305.") var productHex: String?
        @Option(help: "The region the device's record gets.") var region: String?
        @Option(help: "The fleet the device's record gets.") var fleet: String?

        func run() async throws {
            let request = PreregistrationRequest(serial: serial, productHex: productHex, region: region, fleetID: fleet)
            let created = try await options.call { try await $0.preregister(request) }
            if options.json { print(try JSONOutput.encode(created)) } else { print("Pre-registered serial \(created.serial)") }
        }
    }

    struct Preregistrations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pre-registered serials and the devices they enrolled.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let all = try await options.call { client in
                var rows: [Preregistration] = []
                var cursor: String?
                repeat {
                    let page = try await client.preregistrations(limit: 1_000, after: cursor)
                    rows += page.preregistrations
                    cursor = page.nextAfter
                } while cursor != nil
                return rows
            }
            if options.json {
                print(try JSONOutput.encode(all))
            } else {
                print(
                    Table.render(
                        headers: ["SERIAL", "PRODUCT", "REGION", "FLEET", "CREATED", "BY", "ENROLLED"],
                        rows: all.map {
                            [
                                $0.serial, $0.productHex ?? "any", $0.region ?? "-", $0.fleetID ?? "-", $0.createdAt.map(Table.time) ?? "-",
                                $0.createdBy ?? "-", $0.enrolledUUID ?? "not yet",
                            ]
                        }
                    )
                )
            }
        }
    }

    struct RemovePreregistration: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a pre-registration; a device it enrolled stays.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The serial.") var serial: String

        func run() async throws {
            try await options.call { try await $0.removePreregistration(serial: serial) }
            print("Removed the pre-registration of \(serial)")
        }
    }
}
