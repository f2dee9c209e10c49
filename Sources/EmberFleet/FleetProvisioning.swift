import AsyncHTTPClient
import EmberClient
import EmberCore
import EmberDevice
import Foundation
import NIOHTTP1
import Synchronization

/// `ember fleet provision`: mints keys through the admin API a thousand at a time, registers each device with one,
/// appends it to the fleet file.
public enum FleetProvisioning {
    public struct Options: Sendable {
        public var server: String
        public var token: String
        public var devices: Int
        public var concurrency: Int
        public var out: String
        /// Products to draw from (uniformly).
        public var products: [ProductHex]
        /// Where each product's partition table comes from, so a fleet of FFC3232 boards registers FFC3232 tables.
        public var catalog: ProductCatalog = .bundled
        /// Local addresses the workers register from, in turn (`SourceAddresses`); empty: the system's choice.
        public var sourceAddresses: [String] = []

        public init(server: String, token: String, devices: Int, concurrency: Int, out: String, products: [ProductHex]) {
            self.server = server
            self.token = token
            self.devices = devices
            self.concurrency = concurrency
            self.out = out
            self.products = products
        }
    }

    public struct Result: Codable, Sendable {
        public var requested: Int
        public var registered: Int
        public var failed: Int
        public var seconds: Double
        public var devicesPerS: Double
        /// Latency of one device's registration (and, for one device in a thousand, the wait for the next keys).
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        public var errorsByKind: [String: Int]
        public var stopped: Bool
        public var out: String

        enum CodingKeys: String, CodingKey {
            case requested
            case registered
            case failed
            case seconds
            case devicesPerS = "devices_per_s"
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
            case maxMs = "max_ms"
            case errorsByKind = "errors_by_kind"
            case stopped
            case out
        }
    }

    public static func run(_ options: Options, stop: StopSignal, progress: @escaping @Sendable (FleetProgress) -> Void) async throws -> Result {
        let writer = try FleetWriter(path: options.out)
        defer { writer.close() }
        let tally = FleetTally()
        let next = Mutex(0)
        let seconds = try await withHTTPClient(concurrency: options.concurrency) { http in
            let admin = RegistryClient(baseURL: options.server, token: options.token, http: http)
            let devices = RegistryClient(baseURL: options.server, http: http)
            guard try await admin.send(.GET, "/registration-keys").status == 200 else {
                throw FleetError("\(options.server) refused the admin token; pass a token with the operator or admin role")
            }
            let supply = KeySupply(admin: admin, devices: options.devices)
            return await runWorkers(concurrency: options.concurrency, tally: tally, total: options.devices, progress: progress) { worker in
                let devices = devices.sending(from: SourceAddresses.address(options.sourceAddresses, worker: worker))
                while !stop.isStopped {
                    let index: Int = next.withLock { value in
                        defer { value += 1 }
                        return value
                    }
                    guard index < options.devices else { return }
                    let device = SimulatedDevice(productHex: options.products.randomElement() ?? ProductHex(0x0806_2305))
                    let partitions = (try? options.catalog.product(device.productHex).partitions) ?? SimulatedDevice.defaultPartitions
                    let start = DispatchTime.now().uptimeNanoseconds
                    do {
                        let key: String
                        do { key = try await supply.next() } catch let error as RegistryClient.Failure {
                            tally.failure("mint_status_\(error.status)", status: error.status)
                            continue
                        }
                        let reply = try await devices.register(try device.registrationBody(partitions: partitions), key: key)
                        let elapsed = DispatchTime.now().uptimeNanoseconds - start
                        guard reply.status == 204 else {
                            tally.failure("register_status_\(reply.status)", status: reply.status, nanoseconds: elapsed)
                            continue
                        }
                        do {
                            try writer.append(FleetMember(device))
                        } catch {
                            tally.failure("file")
                            stop.stop()
                            continue
                        }
                        tally.success(status: reply.status, nanoseconds: elapsed)
                    } catch {
                        tally.failure(FleetTally.kind(of: error))
                    }
                }
            }
        }
        let histogram = tally.histogram
        let (done, failed) = tally.counts
        return Result(
            requested: options.devices,
            registered: done,
            failed: failed,
            seconds: seconds,
            devicesPerS: Double(done) / max(seconds, 1e-9),
            p50Ms: histogram.milliseconds(0.5),
            p99Ms: histogram.milliseconds(0.99),
            maxMs: histogram.milliseconds(1),
            errorsByKind: tally.errors,
            stopped: stop.isStopped && done + failed < options.devices,
            out: options.out
        )
    }
}

/// Registration keys minted a thousand at a time (`POST /registration-keys` with a count) and handed out one per
/// device; never more than the fleet needs.
actor KeySupply {
    static let batch = RegistrationKeyBatchRequest.maximumCount
    let admin: RegistryClient
    private var unminted: Int
    private var keys: [String] = []
    private var refill: Task<Void, any Error>?

    init(admin: RegistryClient, devices: Int) {
        self.admin = admin
        self.unminted = devices
    }

    /// The next unused key. The next batch is minted while half of this one is left, so no worker waits for it
    /// unless minting falls behind; a worker that finds none waits for the batch under way (or starts one).
    func next() async throws -> String {
        while true {
            if keys.count < Self.batch / 2 && refill == nil && unminted > 0 { startRefill() }
            if let key = keys.popLast() { return key }
            if refill == nil { startRefill() }
            if let refill {
                do { try await refill.value } catch {
                    self.refill = nil
                    throw error
                }
            }
        }
    }

    private func startRefill() {
        let count = min(Self.batch, max(unminted, 1))
        let admin = self.admin
        refill = Task { try await self.stock(admin.mintKeys(count: count).keys) }
    }

    private func stock(_ minted: [String]) {
        keys.append(contentsOf: minted)
        unminted -= minted.count
        refill = nil
    }
}
