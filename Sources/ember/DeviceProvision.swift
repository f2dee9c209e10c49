import ArgumentParser
import EmberClient
import EmberCore
import EmberDevice
import Foundation
import NIOCore
import NIOHTTP1

extension DeviceCommand {
    /// `SSID=PASSWORD` options (the SSID ends at the first `=`; an empty password is an open network).
    static func wifiNetworks(_ texts: [String], option: String) throws -> [(ssid: String, password: String)] {
        try texts.map { text in
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw ValidationError("\(option) \(text): use SSID=PASSWORD (SSID=, with nothing after it, for an open network)")
            }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
    }

    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Field-provision a Wi-Fi board through its running agent: Wi-Fi, cloud and account claim (PUT /api/provisioning).",
            discussion: """
                The board must be in provisioning (no Wi-Fi yet) or failed. The command prints each step as the board \
                takes it — connecting, validating, claiming — and exits 0 once the board is operational, non-zero with \
                the board's reason when a step fails or --timeout passes. Mint the claim token with \
                `ember claim-token create` (a user token).
                """
        )

        @OptionGroup var board: BoardFolder
        @Option(help: "The Wi-Fi network to join, SSID=PASSWORD.") var wifi: String
        @Option(help: "The cloud (registry) URL; default: the board's configured one.") var cloud: String?
        @Option(help: "The claim token that binds the device to your account (8 characters); without it the device stays unclaimed.")
        var claimToken: String?
        @Option(help: "Seconds to wait for the board to become operational.") var timeout: Double = 120

        func validate() throws {
            _ = try DeviceCommand.wifiNetworks([wifi], option: "--wifi")
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        }

        func run() async throws {
            let link = try DeviceCommand.runningAgent(board)
            let client = RegistryClient(baseURL: link.url, timeout: .seconds(10))
            var seen = try await Self.events(client)
            let network = try DeviceCommand.wifiNetworks([wifi], option: "--wifi")[0]
            let request = ProvisioningRequest(
                wifi: .init(ssid: network.ssid, password: network.password),
                cloudURL: cloud,
                claimToken: claimToken
            )
            let reply = try await DeviceCommand.callAgent(
                link,
                .PUT,
                "/api/provisioning",
                json: try JSONEncoder().encode(request),
                board: board,
                expecting: 202
            )
            var last = try JSONDecoder().decode(ProvisioningStatus.self, from: reply.body)
            print("Provisioning \(board.dir) on \(network.ssid):")
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                // Each step is an event on the board: print the new ones as they come.
                let events = try await Self.events(client)
                let start = seen.last.flatMap { marker in events.lastIndex(of: marker).map { $0 + 1 } } ?? 0
                for event in events[min(start, events.count)...] { print("  \(event.text)") }
                seen = events
                if last.state == .operational || last.state == .failed { break }
                guard Date() < deadline else {
                    throw CommandFailure(
                        description:
                            "the board is still \(last.state.rawValue) after \(Int(timeout)) s; follow it with GET \(link.url)/api/provisioning"
                    )
                }
                try await Task.sleep(for: .milliseconds(200))
                let answer = try await client.send(.GET, "/api/provisioning")
                if answer.status == 200, let status = try? JSONDecoder().decode(ProvisioningStatus.self, from: answer.body) { last = status }
            }
            guard last.state == .operational else { throw CommandFailure(description: "provisioning failed: \(last.error ?? "no reason given")") }
            print(claimToken == nil ? "Operational (not claimed: no claim token)." : "Operational and claimed for your account.")
        }

        /// The board's event log (`GET /api/events`, public).
        static func events(_ client: RegistryClient) async throws -> [Event] {
            let reply = try await client.send(.GET, "/api/events")
            return (try? JSONDecoder().decode([Event].self, from: reply.body)) ?? []
        }
    }
}
