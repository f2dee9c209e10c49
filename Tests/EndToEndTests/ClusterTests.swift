import Crypto
import EmberClient
import EmberCore
import EmberFleet
import EmberSystem
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import NIOHTTP1
import NIOCore
#endif

/// Two real `ember serve` instances on one PostgreSQL behind nginx (`deploy/local-cluster.sh`).
/// Runs under `scripts/test` (which guarantees PostgreSQL); elsewhere it is reported as skipped.
/// Whether this run provides PostgreSQL (`scripts/test` sets `EMBER_REQUIRE_POSTGRES=1`).
enum ClusterGate {
    static let enabled = ProcessInfo.processInfo.environment["EMBER_REQUIRE_POSTGRES"] == "1"
}

@Suite(.serialized, .enabled(if: ClusterGate.enabled, "runs under scripts/test, which provides PostgreSQL"))
struct ClusterTests {
    struct Cluster {
        let folder: URL
        let env: [String: String]
        var url: String { env["URL"] ?? "" }
        var token: String { env["TOKEN"] ?? "" }
        func instance(_ number: Int) -> String { "http://127.0.0.1:\(env["PORT\(number)"] ?? "0")" }
        func pid(_ number: Int) -> Int32 { Int32(env["PID\(number)"] ?? "") ?? 0 }
    }

    static var script: String {
        var root = URL(fileURLWithPath: #filePath)
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        return root.appendingPathComponent("deploy/local-cluster.sh").path
    }

    /// Runs the cluster script with a bounded wait. Its output is discarded: the daemons it leaves behind log to the
    /// cluster folder, and must not hold the test runner's output open.
    static func run(_ arguments: [String], timeout: Double = 120) async throws {
        let process = try ChildProcess(
            "/bin/bash",
            [script] + arguments,
            environment: ProcessInfo.processInfo.environment.merging(["EMBER_BINARY": EmberProcess.binary.path]) { $1 }
        )
        guard let termination = try await process.wait(timeout: .seconds(timeout)) else {
            process.send(SIGKILL)
            throw EmberProcess.StartFailure(description: "local-cluster.sh \(arguments.first ?? "") took over \(Int(timeout)) s")
        }
        guard termination == .exited(0) else {
            throw EmberProcess.StartFailure(description: "local-cluster.sh \(arguments.first ?? "") ended with \(termination)")
        }
    }

    /// Starts the cluster, runs `body`, and always stops it.
    static func withCluster(tls: Bool = false, _ body: (Cluster) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-cluster-\(UUID().uuidString)")
        try await run(["start", folder.path] + (tls ? ["--tls"] : []))
        do {
            let text = try String(contentsOf: folder.appendingPathComponent("cluster.env"), encoding: .utf8)
            var env: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { env[parts[0]] = parts[1] }
            }
            try await body(Cluster(folder: folder, env: env))
            try await run(["stop", folder.path])
        } catch {
            try? await run(["stop", folder.path])
            throw error
        }
    }

    /// `deploy/nginx-tls.conf`: HTTPS at nginx, one device CA for both instances, a board enrolling through it.
    @Test func theTLSVariantServesHTTPSAndABoardEnrollsThroughIt() async throws {
        try await Self.withCluster(tls: true) { cluster in
            let cacert = try #require(cluster.env["CACERT"])
            #expect(cluster.url.hasPrefix("https://"))
            let http = try TrustedHTTP.client(rootFile: cacert)
            let admin = RegistryClient(baseURL: cluster.url, token: cluster.token, http: http)
            let ca = cluster.folder.appendingPathComponent("factory-ca")
            try await ZeroTouchEndToEndTests.run(["ca", "init", "--dir", ca.path])
            _ = try await admin.addOnboardingRoot(pem: try String(contentsOf: ca.appendingPathComponent("onboarding-root.cert.pem"), encoding: .utf8))
            _ = try await admin.preregister(PreregistrationRequest(serial: "SN-CLUSTER-1"))
            let onboarding = cluster.folder.appendingPathComponent("onboarding")
            try await ZeroTouchEndToEndTests.run(["ca", "issue", "--ca", ca.path, "--serial", "SN-CLUSTER-1", "--out", onboarding.path])
            let board = cluster.folder.appendingPathComponent("board")
            try await ZeroTouchEndToEndTests.run([
                "device", "init", "--product", "FFC0806-2305", "--dir", board.path, "--cloud", cluster.url, "--onboarding", onboarding.path,
                "--root-certificate", cacert,
            ])
            let device = try await DeviceAgentTests.Device.start(board: board, folder: cluster.folder, cloud: cluster.url, create: false)
            let uuid = try await device.provision()
            try await ZeroTouchEndToEndTests.waitForZeroTouch(device, "state", "enrolled")
            #expect(try await admin.device(uuid).registeredBy == "onboarding:SN-CLUSTER-1")
            let first = try await RegistryClient(baseURL: cluster.instance(1)).deviceCA()
            #expect(try await RegistryClient(baseURL: cluster.instance(2)).deviceCA() == first, "one device CA for both instances")
            let login = try await RegistryClient(baseURL: cluster.url, http: http).send(.GET, "/console/login")
            #expect(login.headers.contains { $0.0.lowercased() == "set-cookie" && $0.1.contains("Secure") }, "Secure cookies behind the TLS proxy")
            try await device.process.stop(signal: SIGTERM)
        }
    }

    @Test func fiftyRacingRegistrationsThroughNginxMakeOneDevice() async throws {
        try await Self.withCluster { cluster in
            let admin = RegistryClient(baseURL: cluster.url, token: cluster.token)
            let key = try await admin.mintKey().key
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await RegistryClient(baseURL: cluster.url).register(try SimulatedDevice().registrationBody(), key: key).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 204 }.count == 1)
            #expect(statuses.allSatisfy { [204, 401, 429].contains($0) })
            #expect(try await admin.devices().devices.count == 1)
        }
    }

    @Test func aSignedRequestReplayedToTheOtherInstanceIs401() async throws {
        try await Self.withCluster { cluster in
            let admin = RegistryClient(baseURL: cluster.url, token: cluster.token)
            let device = SimulatedDevice()
            #expect(try await admin.register(try device.registrationBody(), key: try await admin.mintKey().key).status == 204)
            let path = "/devices/\(DeviceUUID.format(device.uuid))/registration"
            let now = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
            let headers = try device.sign(method: "GET", path: path, at: now).fields.map { ($0.name, $0.value) }
            #expect(try await RegistryClient(baseURL: cluster.instance(1)).send(.GET, path, headers: headers).status == 200)
            let replay = try await RegistryClient(baseURL: cluster.instance(2)).send(.GET, path, headers: headers)
            #expect(replay.status == 401 && replay.message == "Nonce already used")

            // A key rotated through instance 1 and promoted on instance 2: the old key is refused everywhere.
            let old = try device.master.signingKey()
            let new = P256.Signing.PrivateKey()
            func signed(
                _ key: P256.Signing.PrivateKey,
                _ method: String,
                _ path: String,
                body: Data = Data(),
                nonce: Data? = nil
            ) throws
                -> [(String, String)]
            {
                let at = DeviceTimestamp(epochSeconds: Int64(Date().timeIntervalSince1970))
                return try RequestSigner.sign(key: key, uuid: device.uuid, version: .v2, method: method, path: path, body: body, at: at, nonce: nonce)
                    .fields.map { ($0.name, $0.value) }
            }
            let nonce = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
            let proof = try KeyProof.sign(key: new, uuid: device.uuid, epoch: 1, nonce: nonce.base64EncodedString())
            let body = try JSONEncoder().encode(KeySubmission(epoch: 1, publicKey: DevicePublicKey(new.publicKey).base64, proof: proof))
            let keysPath = "/devices/\(DeviceUUID.format(device.uuid))/keys"
            let submitted = try await RegistryClient(baseURL: cluster.instance(1))
                .send(
                    .POST,
                    keysPath,
                    headers: try signed(old, "POST", keysPath, body: body, nonce: nonce) + [("Content-Type", "application/json")],
                    body: body
                )
            #expect(submitted.status == 201, "\(submitted.message)")
            #expect(try await RegistryClient(baseURL: cluster.url).send(.GET, path, headers: try signed(old, "GET", path)).status == 200)
            #expect(try await RegistryClient(baseURL: cluster.instance(2)).send(.GET, path, headers: try signed(new, "GET", path)).status == 200)
            for base in [cluster.instance(1), cluster.instance(2), cluster.url] {
                let stale = try await RegistryClient(baseURL: base).send(.GET, path, headers: try signed(old, "GET", path))
                #expect(stale.status == 401 && stale.message == "Signature verification failed", "\(base)")
            }
            #expect(try await admin.device(DeviceUUID.format(device.uuid)).keyEpoch == 1)
        }
    }

    @Test func killingOneInstanceMidLoadLosesAndDuplicatesNothing() async throws {
        try await Self.withCluster { cluster in
            let admin = RegistryClient(baseURL: cluster.url, token: cluster.token)
            let devices = (0..<80).map { _ in SimulatedDevice() }
            var minted: [String] = []
            for _ in devices { minted.append(try await admin.mintKey().key) }
            let keys = minted
            let finished = Counter()
            let pid = cluster.pid(1)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        let client = RegistryClient(baseURL: cluster.url, timeout: .seconds(10))
                        for index in stride(from: worker, to: devices.count, by: 8) {
                            var registered = false
                            for _ in 0..<20 where !registered {
                                // A reply lost with the killed instance is retried: same UUID and key are idempotent.
                                if let reply = try? await client.register(try devices[index].registrationBody(), key: keys[index]) {
                                    registered = reply.status == 204
                                    #expect([204, 502, 503, 504].contains(reply.status), "\(reply.status) \(reply.message)")
                                }
                                if !registered { try await Task.sleep(for: .milliseconds(100)) }
                            }
                            #expect(registered)
                            if await finished.increment() == 20 { kill(pid, SIGKILL) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            var uuids: [String] = []
            var after: String?
            repeat {
                let page = try await admin.devices(limit: 50, after: after)
                uuids += page.devices.map(\.uuid)
                after = page.nextAfter
            } while after != nil
            #expect(uuids.count == devices.count)
            #expect(Set(uuids) == Set(devices.map { DeviceUUID.format($0.uuid) }))
            #expect(try await admin.listKeys().isEmpty)  // every key spent exactly once
            #expect(try await RegistryClient(baseURL: cluster.url).send(.GET, "/health").status == 200)
        }
    }
}

/// A shared count for the load workers.
actor Counter {
    private var value = 0
    func increment() -> Int {
        value += 1
        return value
    }
}
