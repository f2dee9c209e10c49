import ArgumentParser
import EmberClient
import EmberCore
import Foundation

/// `ember devices …`: the device registry over the admin API.
struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List and inspect registered devices.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices by UUID.")
        @OptionGroup var options: ServerOptions
        @Option(help: "Devices per page.") var limit = 100
        @Option(help: "Start after this UUID (the previous page's last).") var after: String?
        @Flag(help: "Follow every page to the end.") var all = false

        func validate() throws {
            guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be 1…1000") }
        }

        func run() async throws {
            let devices = try await options.call { client in
                var devices: [DeviceRecord] = []
                var cursor = after
                repeat {
                    let page = try await client.devices(limit: limit, after: cursor)
                    devices += page.devices
                    cursor = page.nextAfter
                } while all && cursor != nil
                return devices
            }
            if options.json {
                print(try JSONOutput.encode(devices))
            } else {
                print(
                    Table.render(
                        headers: ["UUID", "PRODUCT", "CLASS", "REGISTERED", "BY", "STATUS"],
                        rows: devices.map {
                            [
                                $0.uuid, $0.productID, $0.deviceClass, Table.time($0.registrationDate), $0.registeredBy,
                                $0.decommissionedAt == nil ? "active" : "decommissioned",
                            ]
                        }
                    )
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one device's full manufacturing record.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The device UUID.") var uuid: String

        func run() async throws {
            let data = try await options.call { try await $0.deviceJSON(uuid) }
            let object = try JSONSerialization.jsonObject(with: data)
            let pretty = try JSONSerialization.data(withJSONObject: object, options: options.json ? [.sortedKeys] : [.prettyPrinted, .sortedKeys])
            print(String(decoding: pretty, as: UTF8.self))
        }
    }
}
