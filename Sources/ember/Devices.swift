import ArgumentParser
import EmberClient
import EmberCore
import Foundation
import NIOCore
import NIOFoundationCompat

/// `ember devices …`: the device registry over the admin API.
struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and inspect registered devices; queue lifecycle actions.",
        subcommands: [
            List.self, Show.self, Export.self, Actions.self, Configure.self, FactoryReset.self, Decommission.self, RotateKey.self, CancelAction.self,
            OnboardingCommand.Preregister.self,
        ]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices by UUID.")
        @OptionGroup var options: ServerOptions
        @Option(help: "Devices per page.") var limit = 100
        @Option(help: "Start after this UUID (the previous page's last).") var after: String?
        @Flag(help: "Follow every page to the end.") var all = false
        @OptionGroup var filter: DeviceFilterOptions

        func validate() throws {
            guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be 1…1000") }
        }

        func run() async throws {
            let devices = try await options.call { client in
                var devices: [DeviceRecord] = []
                var cursor = after
                repeat {
                    let page = try await client.devices(limit: limit, after: cursor, filter: filter.filter)
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
                        headers: ["UUID", "PRODUCT", "CLASS", "REGISTERED", "BY", "STATE", "FLEET", "REGION", "FACTORY TEST", "LAST SEEN", "KEY"],
                        rows: devices.map {
                            [
                                $0.uuid, $0.productID, $0.deviceClass, Table.time($0.registrationDate), $0.registeredBy, $0.state,
                                $0.fleetID ?? "-", $0.region ?? "-", $0.factoryTest?.passed.map { $0 ? "passed" : "FAILED" } ?? "-",
                                $0.lastCheckIn.map { Table.time($0.at) } ?? "never", String($0.keyEpoch),
                            ]
                        }
                    )
                )
            }
        }
    }

    /// The filters of `list` and `export`.
    struct DeviceFilterOptions: ParsableArguments {
        @Option(help: "Only devices in this state: registered or decommissioned.") var state: String?
        @Option(help: "Only this product, by hex (0x08062305).") var product: String?
        @Option(help: "Only this fleet id.") var fleet: String?
        @Option(help: "Only this region.") var region: String?
        @Option(help: "Only UUIDs that start with this.") var q: String?

        func validate() throws {
            if let state, state != "registered" && state != "decommissioned" {
                throw ValidationError("--state must be registered or decommissioned")
            }
            if let product, ProductHex(product) == nil { throw ValidationError("--product must be 0x and 8 hex digits, e.g. 0x08062305") }
            if let fleet, let problem = ManufacturingFields.fleetIDProblem(fleet) { throw ValidationError("--fleet \(problem)") }
            if let region, let problem = ManufacturingFields.regionProblem(region) { throw ValidationError("--region \(problem)") }
        }

        var filter: DeviceFilter {
            DeviceFilter(
                decommissioned: state.map { $0 == "decommissioned" },
                productHex: product,
                fleetID: fleet,
                region: region,
                uuidPrefix: q
            )
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export every manufacturing record: CSV (header row first) or JSON lines, streamed.",
            discussion: "Columns: \(ManufacturingExport.columns.joined(separator: ", "))."
        )
        @OptionGroup var options: ServerOptions
        @Option(help: "csv or jsonl.") var format: String = "csv"
        @OptionGroup var filter: DeviceFilterOptions
        @Option(help: "Write to this file instead of standard output.") var out: String?

        func validate() throws {
            guard ManufacturingExport.Format(rawValue: format) != nil else { throw ValidationError("--format must be csv or jsonl") }
        }

        func run() async throws {
            let format = ManufacturingExport.Format(rawValue: format)!
            let handle: FileHandle
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: nil) else { throw CommandFailure(description: "cannot create \(out)") }
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            } else {
                handle = .standardOutput
            }
            defer { if out != nil { try? handle.close() } }
            try await options.call { client in
                try await client.exportDevices(format: format, filter: filter.filter) { chunk in handle.write(Data(buffer: chunk)) }
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

extension Devices {
    struct Actions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a device's actions, newest first.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The device UUID.") var uuid: String

        func run() async throws {
            let actions = try await options.call { try await $0.actions(uuid) }
            if options.json {
                print(try JSONOutput.encode(actions))
            } else {
                print(
                    Table.render(
                        headers: ["ID", "TYPE", "STATE", "CREATED", "BY", "DELIVERED", "COMPLETED", "DETAIL"],
                        rows: actions.map {
                            [
                                String($0.id), $0.type.rawValue, $0.state.rawValue, Table.time($0.createdAt), $0.createdBy,
                                $0.deliveredAt.map(Table.time) ?? "-", $0.completedAt.map(Table.time) ?? "-", $0.detail ?? $0.reason,
                            ]
                        }
                    )
                )
            }
        }
    }

    struct Decommission: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decommission a device: locked out at once, its backup deleted; it wipes itself at its next check-in.",
            discussion: "Cannot be undone: the registry refuses the UUID from then on."
        )
        @OptionGroup var options: ServerOptions
        @Argument(help: "The device UUID.") var uuid: String
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            let action = try await options.call { try await $0.queueAction(uuid, .decommission, reason: reason) }
            print(
                options.json
                    ? try JSONOutput.encode(action)
                    : "Decommissioned \(action.uuid) (action #\(action.id)); the device wipes itself at its next check-in."
            )
        }
    }

    /// The device and the reason of a queued action; queues it and says so.
    struct ActionTarget: ParsableArguments {
        @OptionGroup var options: ServerOptions
        @Argument(help: "The device UUID.") var uuid: String
        @Option(help: "Why, for the audit log.") var reason = ""

        func queue(_ type: ActionType, config: JSONValue? = nil) async throws {
            let action = try await options.call { try await $0.queueAction(uuid, type, reason: reason, config: config) }
            print(options.json ? try JSONOutput.encode(action) : "Queued \(type.rawValue) for \(action.uuid) (action #\(action.id)).")
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask a device to rotate its signing key at its next check-in."
        )
        @OptionGroup var target: ActionTarget

        func run() async throws {
            try await target.queue(.rotateKey)
        }
    }

    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a configuration change (a JSON merge patch) for a device's next check-in.",
            discussion: """
                The device validates it as it validates a local change: an invalid patch ends `failed` with the \
                per-field reasons (see `ember devices actions UUID`). Example: --patch '{"check_in_interval_s": 600}'.
                """
        )
        @OptionGroup var target: ActionTarget
        @Option(help: "The JSON merge patch (RFC 7386), an object.") var patch: String

        func validate() throws {
            guard case .object? = JSONValue(text: patch) else {
                throw ValidationError("--patch must be a JSON object, e.g. '{\"region\": \"eu-west\"}'")
            }
        }

        func run() async throws {
            try await target.queue(.configure, config: JSONValue(text: patch))
        }
    }

    struct FactoryReset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "factory-reset",
            abstract: "Ask a device to reset its settings to the defaults at its next check-in.",
            discussion: "The device keeps its identity, keys, registration, logs and its cloud backup; its local backup and Wi-Fi are erased."
        )
        @OptionGroup var target: ActionTarget

        func run() async throws {
            try await target.queue(.factoryReset)
        }
    }

    struct CancelAction: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel-action", abstract: "Cancel an action the device has not received yet.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The device UUID.") var uuid: String
        @Argument(help: "The action id.") var id: Int64

        func run() async throws {
            try await options.call { try await $0.cancelAction(uuid, id: id) }
            print("Cancelled action #\(id).")
        }
    }
}
