import EmberBench
import EmberClient
import EmberCore
import EmberDevice
import EmberFleet
import Foundation
import Testing

/// The client-side tools of `ember fleet` and `ember bench`: the latency histogram and the fleet file.
struct ClientToolTests {
    @Test func histogramPercentilesStayWithinOnePercent() {
        var generator = SystemRandomNumberGenerator()
        let samples = (0..<20_000).map { _ in UInt64.random(in: 50_000...900_000_000, using: &generator) }
        let histogram = LatencyHistogram(samples)
        let sorted = samples.sorted()
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = Double(sorted[Int((q * Double(sorted.count)).rounded(.up)) - 1]) / 1e6
            let estimate = histogram.milliseconds(q)
            #expect(estimate >= exact && estimate <= exact * 1.01, "q \(q): \(estimate) vs \(exact)")
        }
        #expect(histogram.milliseconds(1) == Double(sorted.last!) / 1e6)
        #expect(histogram.count == 20_000)

        var merged = LatencyHistogram(samples.prefix(10_000))
        merged.merge(LatencyHistogram(samples.suffix(10_000)))
        #expect(merged == histogram)
        #expect(LatencyHistogram().milliseconds(0.99) == 0)
        #expect(LatencyHistogram([0, 1, 255, UInt64.max]).milliseconds(1) == Double(UInt64.max) / 1e6, "extremes do not trap")
    }

    @Test func theFleetFileIsPrivateAndNeverWrittenThroughALink() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let existing = folder.appendingPathComponent("old.jsonl").path
        #expect(FileManager.default.createFile(atPath: existing, contents: Data("old\n".utf8), attributes: [.posixPermissions: 0o644]))
        try FleetWriter(path: existing).close()
        let mode = try FileManager.default.attributesOfItem(atPath: existing)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o600, "an existing file's mode is tightened")

        let target = folder.appendingPathComponent("elsewhere").path
        let link = folder.appendingPathComponent("link.jsonl").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(throws: FleetError("\(link) is a symbolic link; give the fleet file's real path")) { try FleetWriter(path: link) }
        #expect(!FileManager.default.fileExists(atPath: target), "nothing was written through the link")
    }

    @Test func fleetFilesRoundTripAndBadLinesAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("fleet.jsonl").path
        let devices = (0..<5).map { _ in SimulatedDevice(productHex: ProductHex(0x3232_2603)) }
        let writer = try FleetWriter(path: path)
        for device in devices { try writer.append(FleetMember(device)) }
        writer.close()
        let fleet = try Fleet(path: path)
        #expect(fleet.uuids == devices.map(\.uuid))
        for (index, device) in devices.enumerated() {
            #expect(try fleet.device(index).master.publicKey() == device.master.publicKey())
            #expect(fleet.device(index).productHex == device.productHex)
        }

        let broken = folder.appendingPathComponent("broken.jsonl").path
        let good = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0]
        for bad in [#"{"uuid":"x"}"#, #"{"uuid":"\#(UUID())","product_hex":"0x1","master_key":"00"}"#, "not json"] {
            try (good + "\n" + bad + "\n").write(toFile: broken, atomically: true, encoding: .utf8)
            #expect { try Fleet(path: broken) } throws: { "\($0)".contains("line 2") }
        }
        try "".write(toFile: broken, atomically: true, encoding: .utf8)
        #expect { try Fleet(path: broken) } throws: { "\($0)".contains("holds no devices") }
        #expect { try Fleet(path: folder.appendingPathComponent("missing").path) } throws: { "\($0)".contains("cannot open") }
    }

    @Test func chartIsWellFormedSVGWithEverySeries() throws {
        let chart = SVGChart(
            title: "checks & registrations <test>",
            xLabel: "concurrent clients",
            yLabel: "ms",
            series: [
                .init(name: "check p50", color: "#1f77b4", points: [(1, 0.4), (4, 0.9), (64, 13.6)]),
                .init(name: "registration p99", color: "#d62728", dashed: true, points: [(1, 1.6), (4, 5.6), (64, 66.1)]),
            ]
        )
        let svg = chart.svg
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains("check p50") && svg.contains("registration p99") && svg.contains("stroke-dasharray"))
        #expect(svg.contains("checks &amp; registrations &lt;test&gt;"), "text is escaped")
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(SVGChart(title: "empty", xLabel: "x", yLabel: "y", series: []).svg.contains("</svg>"), "no data still draws")
    }
}
