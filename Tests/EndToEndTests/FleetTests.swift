import EmberClient
import EmberCore
import EmberFleet
import EmberSystem
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `ember fleet` against a real `ember serve`.
@Suite(.serialized)
struct FleetTests {
    static let bootstrap = "e2e-fleet-bootstrap-token-012345"

    static func allDevices(_ admin: RegistryClient) async throws -> Set<String> {
        var uuids = Set<String>()
        var after: String?
        repeat {
            let page = try await admin.devices(limit: 500, after: after)
            uuids.formUnion(page.devices.map(\.uuid))
            after = page.nextAfter
        } while after != nil
        return uuids
    }

    @Test func fiftyDevicesProvisionedAndBootStormed() async throws {
        try await withTemporaryFolder { folder in
            let server = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap]
            )
            let fleet = folder.appendingPathComponent("fleet.jsonl").path
            let provision = try await EmberProcess.run(
                [
                    "fleet", "provision", "--server", server.baseURL, "--token", Self.bootstrap, "--devices", "50", "--concurrency", "8",
                    "--out", fleet, "--json", "--source-address", "127.0.0.2-127.0.0.4", "--source-address", "127.0.0.9",
                ],
                timeout: 120
            )
            #expect(provision.status == 0, "\(provision.output)")
            let line = try #require(provision.output.split(separator: "\n").last)
            let summary = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(summary?["registered"] as? Int == 50 && summary?["failed"] as? Int == 0)
            let members = try Fleet(path: fleet)
            #expect(members.count == 50)
            let admin = RegistryClient(baseURL: server.baseURL, token: Self.bootstrap)
            #expect(try await Self.allDevices(admin) == Set(members.uuids.map(DeviceUUID.format)))
            let mode = try FileManager.default.attributesOfItem(atPath: fleet)[.posixPermissions] as? Int
            #expect(mode == 0o600, "the fleet file holds master keys")
            // Eight workers take the four source addresses in turn: the registry sees each device come from one of them.
            var clients = Set<String>()
            var after: Int64?
            repeat {
                let page = try await admin.audit(limit: 500, after: after, action: "device.registered")
                clients.formUnion(page.entries.map(\.client))
                after = page.nextAfter
            } while after != nil
            #expect(clients == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.9"])
            #expect(try await admin.listKeys().isEmpty, "one key minted per device, none left unspent")

            // FireFly firmware (v1) first, then Ember's (v2): a device that has signed v2 is refused v1 from then on.
            for arguments in [["--signature", "v1", "--backup-kb", "8"], ["--signature", "v2"]] {
                let storm = try await EmberProcess.run(
                    ["fleet", "boot-storm", "--server", server.baseURL, "--fleet", fleet, "--concurrency", "8", "--duration", "2", "--json"]
                        + arguments,
                    timeout: 60
                )
                #expect(storm.status == 0, "\(storm.output)")
                let last = try #require(storm.output.split(separator: "\n").last)
                let result = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
                let requests = try #require(result["requests"] as? Int)
                #expect(requests >= 50, "every device booted at least once")
                #expect(result["devices_booted"] as? Int == 50)
                #expect(result["errors"] as? Int == 0, "\(result)")
                #expect((result["status_counts"] as? [String: Int])?["200"] == requests)
                for key in ["requests_per_s", "p50_ms", "p99_ms", "max_ms"] { #expect(result[key] is Double, "\(key)") }
            }
        }
    }

    @Test(arguments: ["10.0.0.300", "127.0.0.9-127.0.0.2", "localhost", "127.0.0.1-"])
    func aWrongSourceAddressIsRefusedBeforeAnyRequest(_ address: String) async throws {
        let run = try await EmberProcess.run(
            ["fleet", "provision", "--server", "http://127.0.0.1:9", "--token", Self.bootstrap, "--devices", "1", "--source-address", address],
            timeout: 30
        )
        #expect(run.status != 0)
        #expect(run.output.contains("source address"), "\(run.output)")
    }

    @Test func ctrlCLeavesEveryRegisteredDeviceInTheFile() async throws {
        try await withTemporaryFolder { folder in
            let server = try await EmberProcess(
                database: "sqlite:\(folder.path)/ember.sqlite",
                folder: folder,
                environment: ["EMBER_BOOTSTRAP_TOKEN": Self.bootstrap]
            )
            let fleet = folder.appendingPathComponent("fleet.jsonl").path
            let output = folder.appendingPathComponent("provision.log")
            let process = try ChildProcess(
                EmberProcess.binary.path,
                [
                    "fleet", "provision", "--server", server.baseURL, "--token", Self.bootstrap, "--devices", "100000", "--concurrency",
                    "4", "--out", fleet,
                ],
                output: .file(output.path)
            )
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, ((try? Fleet(path: fleet))?.count ?? 0) < 20 { try await Task.sleep(for: .milliseconds(50)) }
            process.send(SIGINT)
            let termination = try await process.wait(timeout: .seconds(30))
            #expect(termination == .exited(0), "Ctrl-C stops the run: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
            let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            #expect(log.contains("stopped by Ctrl-C"))

            let members = try Fleet(path: fleet)
            let registered = try await Self.allDevices(RegistryClient(baseURL: server.baseURL, token: Self.bootstrap))
            #expect(members.count >= 20 && members.count < 100_000)
            #expect(Set(members.uuids.map(DeviceUUID.format)) == registered, "the file holds exactly the devices that registered")
        }
    }
}
