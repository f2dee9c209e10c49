import EmberCore
import Logging

/// The boot-time checks: the flashed partition table against the catalog, and the I2C peripherals.
extension DeviceAgent {
    func runChecks(product: Product?) {
        let partitionProblems =
            product.map { Self.partitionProblems(expected: $0.partitions, found: board.partitions) }
            ?? ["product \(board.product) is not in the catalog"]
        if partitionProblems.isEmpty {
            log.resolve("Partition table bad")
        } else {
            event(.error, "Partition table bad")
            for problem in partitionProblems { logger.error("partition check: \(problem)") }
        }
        peripherals = board.probePeripherals() + [Peripheral(address: 0, kind: .nvs, online: true)]
        var peripheralProblems: [String] = []
        for peripheral in peripherals {
            if peripheral.online {
                log.resolve(peripheral.offlineEvent)
            } else {
                peripheralProblems.append("\(peripheral.kind.rawValue) at \(peripheral.addressText) is offline")
                event(.error, peripheral.offlineEvent)
            }
        }
        checks = CheckReport(
            partitions: .init(passed: partitionProblems.isEmpty, problems: partitionProblems),
            peripherals: .init(passed: peripheralProblems.isEmpty, problems: peripheralProblems)
        )
    }

    /// Differences between the expected and the flashed partition table, position by position.
    static func partitionProblems(expected: [PartitionEntry], found: [PartitionEntry]) -> [String] {
        var problems: [String] = []
        if expected.count != found.count {
            problems.append("expected \(expected.count) partitions, found \(found.count)")
        }
        func describe(_ p: PartitionEntry) -> String {
            "\(p.label) type \(p.type)/\(p.subtype) at 0x\(String(p.address, radix: 16)) size 0x\(String(p.size, radix: 16))"
        }
        for (index, (want, have)) in zip(expected, found).enumerated() where want != have {
            problems.append("partition \(index): expected \(describe(want)), found \(describe(have))")
        }
        return problems
    }
}
