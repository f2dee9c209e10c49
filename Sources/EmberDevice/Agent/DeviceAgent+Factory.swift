import EmberCore
import Foundation
import Logging

/// One check of the factory test suite.
public struct FactoryCheck: Codable, Sendable, Equatable {
    public var name: String
    public var passed: Bool
    public var detail: String
}

/// `POST /api/factory-test`: every check, run now.
public struct FactoryTestReport: Codable, Sendable, Equatable {
    public var passed: Bool
    public var ranAt: Int64
    public var results: [FactoryCheck]

    enum CodingKeys: String, CodingKey {
        case passed, results
        case ranAt = "ran_at"
    }

    /// What the registration body carries.
    public var summary: FactoryTestSummary {
        FactoryTestSummary(passed: passed, ranAt: ranAt, failed: results.filter { !$0.passed }.map(\.name))
    }
}

/// The factory flow (lifecycle §5): the test suite and the initial configuration; and the factory reset (§4) with
/// the front-panel button that triggers it.
extension DeviceAgent {
    /// Names of the checks, in the order they run.
    public static let factoryCheckNames = ["partition_table", "peripherals", "vdd_sdio_fuses", "clock", "cloud_reachable"]
    /// The checks the registration gate looks at: the hardware. The registration checks the clock (503) and the
    /// cloud (502, then retries in the background) itself.
    static let registrationGateChecks: Set<String> = ["partition_table", "peripherals", "vdd_sdio_fuses"]

    /// Runs every check now: partition table, peripherals (probed again), VDD_SDIO fuses, clock, cloud. The result
    /// is kept for the registration gate.
    @discardableResult
    public func runFactoryTest() async -> FactoryTestReport {
        factoryTestRuns += 1
        let run = factoryTestRuns
        let product = try? catalog.product(board.product)
        runChecks(product: product)
        var results: [FactoryCheck] = []
        func add(_ name: String, _ passed: Bool, _ detail: String) {
            results.append(FactoryCheck(name: name, passed: passed, detail: detail))
        }
        add("partition_table", checks.partitions.passed, checks.partitions.problems.first.map { "\($0)" } ?? "matches the catalog")
        add("peripherals", checks.peripherals.passed, checks.peripherals.problems.joined(separator: "; ").nonEmpty ?? "\(peripherals.count) online")
        if product?.burnVDDSDIOFuses == true {
            let burned = (try? board.vddSDIOFuses().allBurned) ?? false
            add("vdd_sdio_fuses", burned, burned ? "burned" : "not burned (the product needs all three)")
        } else {
            add("vdd_sdio_fuses", true, "not required by this product")
        }
        add("clock", clockSynchronized, clockSynchronized ? "synchronized" : "NTP has not answered")
        if let root = cloudRoot() {
            let problem = await cloud.reachabilityProblem(root: root)
            add("cloud_reachable", problem == nil, problem ?? "\(root) answered")
        } else {
            add("cloud_reachable", true, "skipped: no cloud configured yet (given at registration)")
        }
        let report = FactoryTestReport(passed: results.allSatisfy(\.passed), ranAt: eventTime(), results: results)
        // The last run started is the one the gate uses: an earlier run still waiting for the cloud does not overwrite it.
        if run == factoryTestRuns { factoryTest = report }
        if !report.passed {
            // Each failed check logs its own error; this says the suite as a whole did not pass.
            event(.notify, "Factory test fail")
            logger.warning("factory test failed", metadata: ["ember.failed": "\(report.summary.failed ?? [])"])
        }
        return report
    }

    /// The initial configuration `POST /api/identity` writes with the identity (local source).
    func writeInitialConfig(region: String?, fleetID: String?) async throws(AgentFailure) {
        var patch: [String: JSONValue] = [:]
        if let region { patch["region"] = .string(region) }
        if let fleetID { patch["fleet_id"] = .string(fleetID) }
        guard !patch.isEmpty else { return }
        try await updateConfig(.object(patch), source: .local)
    }

    // MARK: Factory reset

    /// `POST /api/factory-reset`: `confirmation` must be this device's UUID.
    public func factoryResetLocally(confirmation: String?) async throws(AgentFailure) {
        let identity = try requireIdentity()
        guard let confirmation, DeviceUUID.parse(confirmation) == identity.uuid else {
            throw .invalidInput("Confirmation uuid does not match this device")
        }
        try await factoryReset(trigger: "api")
        requestReboot(announce: false)
    }

    /// Logs `Factory reset` first, then: settings back to defaults (the cloud URL kept while registered), Wi-Fi
    /// forgotten (a Wi-Fi board boots into field provisioning), the local backup and its sidecar removed. The identity, keys, registration, logs and the cloud
    /// backup stay.
    func factoryReset(trigger: String) async throws(AgentFailure) {
        guard !decommissioned else { throw .decommissioned }
        event(.notify, "Factory reset")
        logger.notice("factory reset", metadata: ["ember.trigger": "\(trigger)"])
        let log = self.log
        try await offload { () throws(HardwareError) in try log.flush() }
        var defaults = configStore.defaults
        if case .known(registered: true, _, let root) = registration { defaults.cloudURL = root }
        try await apply(defaults, source: .reset)
        let partition = board.config
        try await offload { () throws(HardwareError) in
            _ = try LocalBackup(partition: partition).delete()
            try partition.remove(ConfigStore.refused)
            try partition.remove(Files.provisioning)
        }
        displayPage = .status
    }

    // MARK: Front-panel button

    /// The simulated front-panel button: held ≥ 10 s, a factory reset (then a reboot); shorter, the next OLED page.
    public func pressButton(holdSeconds: Double) async throws(AgentFailure) {
        lastButtonPress = clock.uptime()
        guard holdSeconds >= 10 else {
            displayPage = displayPage.next
            refreshDisplay()
            return
        }
        try await factoryReset(trigger: "button")
        requestReboot(announce: false)
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
