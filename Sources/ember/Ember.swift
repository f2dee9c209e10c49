import ArgumentParser

/// `ember`: the registry server, its admin tools, the simulated device and the benchmarks.
@main
struct Ember: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ember",
        abstract: "Hardware-rooted device identity: a FireFly-compatible cloud registry and its tools.",
        version: "0.1.0",
        subcommands: [
            Serve.self, Migrate.self, Admin.self, Keys.self, Devices.self, AccountsCommand.self, ClaimTokenCommand.self, OnboardingCommand.self,
            CA.self, Audit.self, DeviceCommand.self,
            FleetCommand.self, Bench.self,
        ]
    )

    /// ArgumentParser's entry point, after tuning the allocator for every subcommand.
    static func main() async {
        Allocator.tune()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
