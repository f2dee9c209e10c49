import Foundation
import Testing

@testable import EmberBench
@testable import EmberFleet

/// The fleet's source addresses and the server-alone benchmark's reading of its scripts.
struct LoadToolTests {
    @Test func sourceAddressesExpandRangesInOrder() throws {
        #expect(
            try SourceAddresses.parse(["127.0.0.254-127.0.1.1", "::1", "10.0.0.7"]) == [
                "127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1", "::1", "10.0.0.7",
            ]
        )
        #expect(try SourceAddresses.parse([]).isEmpty)
        #expect(SourceAddresses.address([], worker: 3) == nil)
        #expect(SourceAddresses.address(["a", "b"], worker: 3) == "b")
    }

    @Test(arguments: [
        "127.0.0.9-127.0.0.2", "127.0.0.1-", "-127.0.0.1", "host.example", "127.0.0.256", "1.2.3", "127.0.0.1-::1", "10.0.0.0-10.1.0.0",
    ])
    func aWrongSourceAddressSaysWhichAndWhy(_ value: String) {
        let error = #expect(throws: FleetError.self) { try SourceAddresses.parse([value]) }
        #expect(error?.description.contains(value) == true, "names the value: \(String(describing: error))")
    }

    @Test func aChecksRunIsReadWithItsAnchor() throws {
        let output = """
            Running 8s test @ http://127.0.0.1:18195
              2 threads and 64 connections
            Requests/sec:   6234.50
            Transfer/sec:      2.20MB
            p50 9.59 ms  p99 18.30 ms  max 33.30 ms  non2xx/3xx 3
            server RSS: 52 MiB
            openssl verify/s (1 core): 16282; × 2 cores = 32564
            """
        let run = try #require(ServerLoadBenchmark.parse(output, script: "signed-checks-wrk.sh", connections: 64))
        #expect(run.requestsPerS == 6234.5 && run.p50Ms == 9.59 && run.p99Ms == 18.3 && run.errors == 3)
        #expect(run.serverRSSMiB == 52 && run.anchorValue == 32564)
    }

    @Test func aRegistrationsRunCountsSocketErrorsAndReadsTheDiskAnchor() throws {
        let output = """
              Socket errors: connect 0, read 2, write 0, timeout 5
            Requests/sec:   2150.01
            p50 29.47 ms  p99 42.35 ms  max 50.10 ms  non2xx/3xx 0
            server RSS: 59 MiB
            4 KiB write+fsync/s (same disk): 7600
            """
        let run = try #require(ServerLoadBenchmark.parse(output, script: "registrations-wrk.sh", connections: 128))
        #expect(run.requestsPerS == 2150.01 && run.errors == 7 && run.anchorValue == 7600)
        #expect(run.anchor == "4 KiB write+fsync/s")
        #expect(ServerLoadBenchmark.parse("wrk: connection refused", script: "registrations-wrk.sh", connections: 128) == nil)
    }
}
