import ArgumentParser
import EmberClient
import EmberCore
import EmberDevice
import Foundation
import Logging
import NIOHTTP1

/// `ember device …`: a simulated FireFly controller running HW-Reg.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Simulate a FireFly controller: create a board, run its HW-Reg agent, inspect it, inject faults.",
        subcommands: [
            Init.self, Run.self, Show.self, Fault.self, Config.self, Button.self, Flash.self, FactoryTest.self, FactoryReset.self, Decommission.self,
            RotateKey.self, Provision.self,
        ]
    )

    struct BoardFolder: ParsableArguments {
        @Option(help: "The board's folder.") var dir: String
        var url: URL { URL(fileURLWithPath: dir, isDirectory: true) }
    }

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a blank board (random MACs, blank eFuse) in a new folder.")

        @Option(help: "Product id (FFC0806-2305) or hex (0x08062305).") var product: String
        @OptionGroup var board: BoardFolder
        @Option(help: "The firmware's built-in cloud URL: the configuration's default cloud_url (and after a factory reset).")
        var cloud: String?
        @Flag(help: "Flash a partition table that does not match the product (to exercise the check).") var wrongPartitions = false
        @Option(
            help:
                "Zero-touch: the folder of `ember ca issue --out` (onboard.cert.pem, onboard.key.pem; root-certificate.pem if there); the board enrolls by itself with --cloud."
        )
        var onboarding: String?
        @Option(help: "With --onboarding: the only roots the board trusts for the cloud's HTTPS certificate (PEM).")
        var rootCertificate: String?
        @Option(help: "A Wi-Fi network of the simulated world, SSID=PASSWORD; repeatable. With any, the board is a Wi-Fi board: field provisioning.")
        var wifiNetwork: [String] = []

        func validate() throws {
            if let cloud, let problem = DeviceConfig.cloudURLProblem(cloud) { throw ValidationError("--cloud \(problem)") }
            _ = try DeviceCommand.wifiNetworks(wifiNetwork, option: "--wifi-network")
            if onboarding != nil && (cloud ?? "").isEmpty { throw ValidationError("--onboarding needs --cloud: the board must know where to enroll") }
            if rootCertificate != nil && onboarding == nil { throw ValidationError("--root-certificate goes with --onboarding") }
            if let onboarding {
                for name in ["onboard.cert.pem", "onboard.key.pem"] where !FileManager.default.fileExists(atPath: "\(onboarding)/\(name)") {
                    throw ValidationError(
                        "--onboarding \(onboarding) has no \(name): issue the board's files with `ember ca issue --out \(onboarding)`"
                    )
                }
            }
            if let rootCertificate, !FileManager.default.fileExists(atPath: rootCertificate) {
                throw ValidationError("--root-certificate \(rootCertificate) does not exist")
            }
        }

        func run() throws {
            let product: Product
            do {
                product = try ProductCatalog.bundled.product(named: self.product)
            } catch {
                throw ValidationError("\(error)")
            }
            let networks = try DeviceCommand.wifiNetworks(wifiNetwork, option: "--wifi-network")
            let created = try SimulatedBoard.create(
                product: product,
                in: board.url,
                wrongPartitionTable: wrongPartitions,
                defaultCloudURL: cloud,
                wifiNetworks: Dictionary(networks, uniquingKeysWith: { $1 })
            )
            if let onboarding, let cloud {
                try created.installOnboarding(
                    from: URL(fileURLWithPath: onboarding),
                    server: cloud,
                    rootCertificate: rootCertificate.map { URL(fileURLWithPath: $0) }
                )
                print("Zero-touch: the onboarding certificate of \(onboarding) is on the config partition; the board enrolls at \(cloud) by itself")
            }
            print("Created a blank \(product.productID) (\(product.productHex), \(product.status.rawValue.lowercased())) in \(board.dir)")
            for name in NetworkInterfaceName.allCases {
                if let mac = created.macAddresses[name] { print("  \(name.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(mac)") }
            }
            print("Run it with: ember device run --dir \(board.dir)")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot the board and serve the HW-Reg API until SIGTERM/SIGINT.",
            discussion: "The OLED (IP, MACs, the visual token, the registration state) is mirrored to DIR/display.txt and the log."
        )

        @OptionGroup var board: BoardFolder
        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on; 0 picks a free one.") var port = 8081
        @Option(help: "Cloud base URL (saved to the device configuration's cloud_url).") var cloud: String?
        @Option(help: "Signature of cloud requests: v2 (Ember) or v1 (FireFly cloud).") var signature: SignatureVersion = .v2
        @Option(help: "Longest wait between retries of a pending registration, seconds.") var retryCap: Double = 60
        @Option(
            help: "Seconds between automatic cloud backups. [env: CLOUD_BACKUP_INTERVAL_SECONDS] (default: the configuration's backup_interval_s)"
        )
        var backupInterval: Double?
        @Option(help: "Seconds between check-ins, at least 10 (default: the configuration's check_in_interval_s; the registry may ask for less).")
        var checkInInterval: Double?
        @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info
        @Option(help: "Seconds before an idle connection (or one whose request head never arrives) is closed, 1…3600.")
        var idleTimeout: Double = 30
        @Option(
            name: .customLong("allowed-origin"),
            help: "A web origin whose pages may call the API (repeatable; * for any, as FireFly). Default: none but the agent's own pages."
        )
        var allowedOrigins: [String] = []
        @Flag(help: "Accept http:// cloud URLs to any host (labs only: signatures and backups then cross the network in the clear).")
        var allowInsecureCloud = false

        func validate() throws {
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
            guard retryCap >= 0.1 else { throw ValidationError("--retry-cap must be at least 0.1 s") }
            if let cloud, let problem = DeviceConfig.cloudURLProblem(cloud, allowInsecure: allowInsecureCloud) {
                throw ValidationError("--cloud \(problem) (--allow-insecure-cloud accepts http:// in a lab)")
            }
            if let backupInterval, backupInterval < 1 { throw ValidationError("--backup-interval must be at least 1 second") }
            if let checkInInterval, checkInInterval < 10 { throw ValidationError("--check-in-interval must be at least 10 seconds") }
            guard (1...3_600).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be 1…3600 seconds") }
            for origin in allowedOrigins where origin != "*" {
                guard let url = URL(string: origin), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.path.isEmpty else {
                    throw ValidationError("--allowed-origin \(origin): give scheme://host[:port], e.g. https://tools.example.com, or *")
                }
            }
        }

        func run() async throws {
            let interval = try backupInterval ?? Environment.integer("CLOUD_BACKUP_INTERVAL_SECONDS").map(Double.init)
            if let interval, interval < 1 { throw ValidationError("CLOUD_BACKUP_INTERVAL_SECONDS must be at least 1") }
            let logger = LoggingSetup.bootstrap(level: logLevel)
            let folder = board.url
            _ = try SimulatedBoard.open(folder)
            var configuration = AgentConfiguration()
            configuration.cloudURL = cloud
            configuration.allowInsecureCloud = allowInsecureCloud
            configuration.signature = signature
            configuration.retryCap = retryCap
            configuration.backupInterval = interval
            configuration.checkInInterval = checkInInterval
            configuration.version = Ember.configuration.version
            configuration.idleTimeout = idleTimeout
            configuration.allowedOrigins = allowedOrigins
            let agent = try DeviceAgent(configuration: configuration, logger: logger) {
                try SimulatedBoard.open(folder, logger: logger)
            }
            let button = SimulatedButton.watch(folder: folder, agent: agent, logger: logger)
            defer {
                button.cancel()
                AgentLink.withdraw(in: folder)
            }
            try await DeviceServer.run(agent: agent, host: host, port: port, logger: logger) { [host] bound in
                do {
                    try AgentLink.publish(AgentLink(pid: getpid(), url: "http://\(host):\(bound)"), in: folder)
                } catch {
                    logger.warning("could not write agent.json; `ember device` commands will not find this agent")
                }
            }
        }
    }

    struct Decommission: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decommission the board: log, notify the registry, wipe the config partition, restart in the factory state.",
            discussion: """
                Through the running agent's API (POST /api/decommission) when `ember device run` serves this board, else \
                directly on the board folder. The eFuse identity stays (OTP); the registry refuses the UUID from then on. \
                An unreachable registry is told at the next boot of the agent.
                """
        )
        @OptionGroup var board: BoardFolder

        func run() async throws {
            let folder = board.url
            let summary = try BoardSummary(board: SimulatedBoard.open(folder))
            guard let uuid = summary.uuid else { throw CommandFailure(description: "the board has no identity: there is nothing to decommission") }
            let notified: Bool
            if let link = AgentLink.running(in: folder) {
                let reply = try await DeviceCommand.callAgent(
                    link,
                    .POST,
                    "/api/decommission",
                    json: Data(#"{"uuid":"\#(uuid)"}"#.utf8),
                    board: board
                )
                notified = String(decoding: reply.body, as: UTF8.self).contains(#""notified":true"#)
            } else {
                let logger = LoggingSetup.bootstrap(level: .warning)
                let agent = try DeviceAgent(logger: logger) { try SimulatedBoard.open(folder, logger: logger) }
                try await agent.boot()
                do {
                    notified = try await agent.decommissionLocally(confirmation: uuid)
                } catch {
                    throw CommandFailure(description: APIErrorText.of(error))
                }
            }
            print("Decommissioned \(uuid).")
            print(notified ? "The registry was notified." : "The registry could not be reached: the notice is sent at the agent's next boot.")
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rotate the device's signing key through its running agent (POST /api/keys/rotate).",
            discussion: "The agent must be running (`ember device run`) and registered; prints the new key epoch."
        )
        @OptionGroup var board: BoardFolder

        func run() async throws {
            let link = try DeviceCommand.runningAgent(board)
            let reply = try await DeviceCommand.callAgent(link, .POST, "/api/keys/rotate", board: board)
            print("Rotated: \(String(decoding: reply.body, as: UTF8.self))")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the board's identity, fuses and registration state (never the key).")

        @OptionGroup var board: BoardFolder
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let summary = try BoardSummary(board: SimulatedBoard.open(board.url))
            print(json ? try JSONOutput.encode(summary) : summary.text)
        }
    }

    struct Fault: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Inject or clear faults in a board; a running agent sees them at its next boot (POST /api/mcu/reboot), peripherals at the next probe (the factory test)."
        )

        @OptionGroup var board: BoardFolder
        @Option(help: "Take the peripheral at this I2C address offline (e.g. 0x21); repeatable.") var offline: [String] = []
        @Option(help: "Bring the peripheral at this address back online; repeatable.") var online: [String] = []
        @Flag(inversion: .prefixedNo, help: "Flash a partition table that does not match the product.") var wrongPartitions: Bool?
        @Option(help: "Seconds the simulated NTP sync takes.") var clockDelay: Double?
        @Flag(inversion: .prefixedNo, help: "NTP never answers.") var clockNeverSyncs: Bool?
        @Flag(inversion: .prefixedNo, help: "The network path to the cloud is down.") var cloudUnreachable: Bool?
        @Flag(help: "The next eFuse write loses power half-way.") var failNextEfuseWrite = false
        @Option(help: "Lose power (SIGKILL) once at: \(PowerCheckpoint.allCases.map(\.rawValue).joined(separator: ", ")).")
        var powerLossAt: String?
        @Option(help: "Put a Wi-Fi network in range, SSID=PASSWORD (or change its password); repeatable. A wired board becomes a Wi-Fi board.")
        var wifiNetwork: [String] = []
        @Option(help: "Take the Wi-Fi network with this SSID out of range; repeatable. A board with none left is wired.")
        var removeWifiNetwork: [String] = []

        func run() throws {
            let networks = try DeviceCommand.wifiNetworks(wifiNetwork, option: "--wifi-network")
            let catalog = ProductCatalog.bundled
            try SimulatedBoard.update(board.url) { spec in
                for (texts, state) in [(offline, false), (online, true)] {
                    for text in texts {
                        guard let index = spec.peripherals.firstIndex(where: { $0.addressText.lowercased() == text.lowercased() }) else {
                            throw ValidationError(
                                "no peripheral at \(text); this board has \(spec.peripherals.map(\.addressText).joined(separator: ", "))"
                            )
                        }
                        spec.peripherals[index].online = state
                    }
                }
                if let wrongPartitions {
                    let expected = try catalog.product(spec.productHex).partitions
                    spec.partitions = wrongPartitions ? SimulatedBoard.wrongTable(expected) : expected
                }
                if let clockDelay {
                    guard clockDelay >= 0 else { throw ValidationError("--clock-delay must not be negative") }
                    spec.faults.clockSyncDelaySeconds = clockDelay
                }
                if let clockNeverSyncs { spec.faults.clockNeverSyncs = clockNeverSyncs }
                if let cloudUnreachable { spec.faults.cloudUnreachable = cloudUnreachable }
                if failNextEfuseWrite { spec.faults.failNextEFuseWrite = true }
                var world = spec.wifiNetworks ?? [:]
                for network in networks { world[network.ssid] = network.password }
                for ssid in removeWifiNetwork { world.removeValue(forKey: ssid) }
                spec.wifiNetworks = world.isEmpty ? nil : world
                if let powerLossAt {
                    guard let point = PowerCheckpoint(rawValue: powerLossAt) else {
                        throw ValidationError("--power-loss-at: use \(PowerCheckpoint.allCases.map(\.rawValue).joined(separator: " or "))")
                    }
                    spec.faults.powerLossAt = point
                }
            }
            print(try BoardSummary(board: SimulatedBoard.open(board.url)).text)
        }
    }
}
