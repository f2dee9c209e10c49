import ArgumentParser
import EmberClient
import EmberCore
import EmberDevice
import Foundation
import NIOHTTP1

/// `ember device config|button|flash|factory-test`: the configuration and the factory tools of a simulated board.
extension DeviceCommand {
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the board's configuration, change it with a JSON merge patch, or list its history.",
            discussion: """
                Through the running agent's API (GET/PATCH /api/config, GET /api/config/history). Example: \
                ember device config --dir D --patch '{"region": "eu-west", "display": {"timeout_s": 60}}'. \
                A null removes a field (back to its default); the Wi-Fi password is set with {"wifi": {"password": "…"}} \
                and never shown.
                """
        )
        @OptionGroup var board: BoardFolder
        @Option(help: "A JSON merge patch (RFC 7386) to apply.") var patch: String?
        @Flag(help: "Print the change history instead, newest first.") var history = false
        @Option(help: "This device's UUID, typed again: needed to change a registered device's cloud_url.") var confirm: String?

        func validate() throws {
            if let patch, JSONValue(text: patch) == nil { throw ValidationError("--patch must be JSON, e.g. '{\"region\": \"eu-west\"}'") }
            if patch != nil && history { throw ValidationError("--patch and --history go separately") }
            if confirm != nil && patch == nil { throw ValidationError("--confirm goes with --patch") }
            if let confirm, DeviceUUID.parse(confirm) == nil { throw ValidationError("--confirm must be this device's UUID") }
        }

        func run() async throws {
            let link = try DeviceCommand.runningAgent(board)
            let reply =
                if let patch {
                    try await DeviceCommand.callAgent(
                        link,
                        .PATCH,
                        "/api/config" + (confirm.map { "?confirm=\($0)" } ?? ""),
                        json: Data(patch.utf8),
                        board: board
                    )
                } else {
                    try await DeviceCommand.callAgent(link, .GET, history ? "/api/config/history" : "/api/config", board: board)
                }
            print(try JSONOutput.encode(JSONDecoder().decode(JSONValue.self, from: reply.body)))
        }
    }

    struct Button: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Press the running board's front-panel button: shorter than 10 s shows the next OLED page, 10 s or more is a factory reset.",
            discussion:
                "The OLED pages cycle status → network → registration → events. A factory reset keeps the identity, keys, registration, logs and the cloud backup."
        )
        @OptionGroup var board: BoardFolder
        @Option(help: "Seconds the button is held.") var hold: Double = 0.2

        func validate() throws {
            guard hold > 0, hold <= 600 else { throw ValidationError("--hold must be more than 0 and at most 600 seconds") }
        }

        func run() async throws {
            let link = try DeviceCommand.runningAgent(board)
            guard try await SimulatedButton.press(holdSeconds: hold, folder: board.url, pid: link.pid) else {
                throw CommandFailure(description: "the agent did not take the button press within 10 s")
            }
            if hold >= 10 {
                print("Factory reset: settings back to defaults, Wi-Fi forgotten, local backup removed; the board reboots.")
            } else {
                let screen = (try? String(contentsOf: board.url.appendingPathComponent("display.txt"), encoding: .utf8)) ?? ""
                print(screen, terminator: "")
            }
        }
    }

    struct Flash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate a firmware update (OTA): the firmware version changes, the config partition stays.",
            discussion: "A running agent reboots into the new firmware; configuration migrations run at that boot."
        )
        @OptionGroup var board: BoardFolder
        @Option(help: "The new firmware's version, X.Y.Z.") var firmwareVersion: String

        func validate() throws {
            let parts = firmwareVersion.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
                throw ValidationError("--firmware-version must be X.Y.Z with numbers, e.g. 1.4.0")
            }
        }

        func run() async throws {
            let old = try SimulatedBoard.open(board.url).firmwareVersion
            try SimulatedBoard.update(board.url) { $0.firmwareVersion = firmwareVersion }
            print("Flashed firmware \(firmwareVersion) (was \(old ?? "the agent's own version")); the config partition is unchanged.")
            if let link = AgentLink.running(in: board.url) {
                let reply = try await link.call(.POST, "/api/mcu/reboot", board: board.url)
                guard reply.status == 204 else {
                    throw CommandFailure(description: "the agent did not reboot: \(reply.message) (HTTP \(reply.status))")
                }
                print("The running agent reboots into it.")
            }
        }
    }

    struct FactoryReset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "factory-reset",
            abstract: "Reset the running board's settings to their defaults (POST /api/factory-reset), then it reboots.",
            discussion:
                "Wi-Fi is forgotten and the local backup removed; the identity, keys, registration, logs and the cloud backup stay. Same as holding the button 10 s."
        )
        @OptionGroup var board: BoardFolder

        func run() async throws {
            let link = try DeviceCommand.runningAgent(board)
            guard let uuid = try BoardSummary(board: SimulatedBoard.open(board.url)).uuid else {
                throw CommandFailure(description: "the board has no identity yet: there is nothing to reset but the defaults")
            }
            _ = try await DeviceCommand.callAgent(
                link,
                .POST,
                "/api/factory-reset",
                json: Data(#"{"uuid":"\#(uuid)"}"#.utf8),
                board: board,
                expecting: 204
            )
            print("Factory reset \(uuid): settings back to defaults, Wi-Fi forgotten, local backup removed; the board reboots.")
        }
    }

    struct FactoryTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "factory-test",
            abstract: "Run the factory test suite on the running board: partition table, peripherals, VDD_SDIO fuses, clock, cloud.",
            discussion: "Exits 1 when a check fails; POST /api/registration then needs \"force\": true."
        )
        @OptionGroup var board: BoardFolder

        func run() async throws {
            let link = try DeviceCommand.runningAgent(board)
            let reply = try await DeviceCommand.callAgent(link, .POST, "/api/factory-test", board: board)
            let report = try JSONDecoder().decode(FactoryTestReport.self, from: reply.body)
            for result in report.results {
                print("\(result.passed ? "pass" : "FAIL")  \(result.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(result.detail)")
            }
            guard report.passed else { throw ExitCode(1) }
        }
    }

    /// Calls the running agent; a status other than `expecting` is a failure with the agent's message (and its per-field
    /// reasons, when it gave them).
    static func callAgent(
        _ link: AgentLink,
        _ method: HTTPMethod,
        _ path: String,
        json: Data? = nil,
        board: BoardFolder,
        expecting status: Int = 200
    ) async throws
        -> RegistryClient.Reply
    {
        let reply = try await link.call(method, path, json: json, board: board.url)
        guard reply.status == status else {
            let errors = (try? JSONDecoder().decode(FieldErrors.self, from: reply.body))?.errors ?? [:]
            let lines = errors.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)" }
            throw CommandFailure(description: (["the agent refused: \(reply.message) (HTTP \(reply.status))"] + lines).joined(separator: "\n"))
        }
        return reply
    }

    private struct FieldErrors: Decodable {
        var errors: [String: String]?
    }

    /// The agent serving the board, or a failure that says how to start one.
    static func runningAgent(_ board: BoardFolder) throws -> AgentLink {
        guard let link = AgentLink.running(in: board.url) else {
            throw CommandFailure(description: "no agent runs for \(board.dir): start it with `ember device run --dir \(board.dir)`")
        }
        return link
    }
}
