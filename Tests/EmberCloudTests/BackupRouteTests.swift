import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
import NIOFoundationEssentialsCompat
#endif

/// `POST/GET/DELETE /devices/{uuid}/backup` on both databases.
struct BackupRouteTests {
    static func path(_ device: SimulatedDevice) -> String { "/devices/\(DeviceUUID.format(device.uuid))/backup" }

    /// A signed backup request by `device` (as `signer`, when another device signs).
    static func send(
        _ client: some TestClientProtocol,
        _ test: TestRegistry,
        _ method: HTTPRequest.Method,
        _ device: SimulatedDevice,
        signer: SimulatedDevice? = nil,
        body: Data = Data(),
        headers extra: HTTPFields = [:],
        path: String? = nil
    ) async throws -> TestResponse {
        let path = path ?? Self.path(device)
        let signed = try (signer ?? device).sign(method: method.rawValue, path: path, body: body, at: test.now)
        var headers = extra
        for (name, value) in signed.fields { headers[HTTPField.Name(name)!] = value }
        if method == .post { headers[.contentType] = "application/octet-stream" }
        return try await client.execute(uri: path, method: method, headers: headers, body: ByteBuffer(data: body))
    }

    static func sealed(_ plaintext: Data, for device: SimulatedDevice) throws -> Data {
        try FFCEContainer.seal(plaintext, using: device.master.derive(.backup))
    }

    @Test(arguments: TestDatabase.all)
    func uploadDownloadDeleteRoundTrip(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await SignedRequestRouteTests.registered(test, client)
            let plaintext = Data(#"{"formatName":"dexie","data":{"tables":[]}}"#.utf8)
            let blob = try Self.sealed(plaintext, for: device)
            let etag = BackupETag.of(plaintext)

            let stored = try await Self.send(client, test, .post, device, body: blob, headers: [.eTag: BackupETag.quoted(etag)])
            #expect(stored.status == .ok, "\(stored.message ?? "")")
            #expect(try stored.decode(BackupStored.self) == BackupStored(lastBackupDate: test.now.text))
            #expect(stored.headers[.eTag] == BackupETag.quoted(etag))

            let fetched = try await Self.send(client, test, .get, device)
            #expect(fetched.status == .ok)
            #expect(Data(buffer: fetched.body) == blob)
            #expect(fetched.headers[.eTag] == BackupETag.quoted(etag))
            #expect(fetched.headers[.contentType] == "application/octet-stream")
            #expect(try FFCEContainer.open(Data(buffer: fetched.body), using: device.master.derive(.backup)) == plaintext)

            let shown = try await client.get("/devices/\(DeviceUUID.format(device.uuid))", token: test.adminToken)
            let record = try shown.decode(DeviceRecord.self)
            #expect(record.backup == BackupInfo(etag: etag, size: Int64(blob.count), lastBackupDate: test.clock.now()))
            #expect(!String(buffer: shown.body).contains(blob.base64EncodedString().prefix(40)), "the admin view never carries the blob")

            test.clock.advance(by: 60)
            let unchanged = try await Self.send(
                client,
                test,
                .post,
                device,
                body: try Self.sealed(plaintext, for: device),
                headers: [.eTag: BackupETag.quoted(etag), .ifNoneMatch: BackupETag.quoted(etag)]
            )
            #expect(unchanged.status == .notModified)
            #expect(try await test.store.backup(uuid: DeviceUUID.format(device.uuid))?.blob == blob, "304 writes nothing")
            #expect(try await test.store.backupInfo(uuid: DeviceUUID.format(device.uuid))?.lastBackupDate == test.clock.now() - 60)

            let newer = try Self.sealed(Data(#"{"formatName":"dexie","v":2}"#.utf8), for: device)
            #expect(try await Self.send(client, test, .post, device, body: newer, headers: [.ifNoneMatch: BackupETag.quoted(etag)]).status == .ok)
            let replaced = try await test.store.backup(uuid: DeviceUUID.format(device.uuid))
            #expect(replaced?.blob == newer && replaced?.info.etag == "" && replaced?.info.lastBackupDate == test.clock.now())
            #expect(try await Self.send(client, test, .get, device).headers[.eTag] == "")

            let deleted = try await Self.send(client, test, .delete, device)
            let existed = try deleted.decode(BackupDeleted.self).existed
            #expect(deleted.status == .ok && deleted.message == "Backup deleted" && existed)
            let gone = try await Self.send(client, test, .get, device)
            #expect(gone.status == .notFound && gone.message == "No backup found for this device")
            let again = try await Self.send(client, test, .delete, device)
            let existedAgain = try again.decode(BackupDeleted.self).existed
            #expect(again.status == .ok && !existedAgain, "idempotent, and says there was none")
            let after = try await client.get("/devices/\(DeviceUUID.format(device.uuid))", token: test.adminToken)
            #expect(try after.decode(DeviceRecord.self).backup == nil)
            let audit = try await test.store.auditEntries(limit: 100, after: nil)
            #expect(audit.filter { $0.action == "backup.deleted" }.count == 1)

            let metrics = try await client.get("/metrics", token: nil)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"ember_backups_total{outcome="stored"} 2"#))
            #expect(text.contains(#"ember_backups_total{outcome="not_modified"} 1"#))
            #expect(text.contains("ember_backup_bytes_stored_total \(blob.count + newer.count)"))
        }
    }

    @Test(arguments: TestDatabase.all)
    func badUploadsGetA4xxAndLeaveTheStoredBackup(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let device = try await SignedRequestRouteTests.registered(test, client)
            let good = try Self.sealed(Data("{}".utf8), for: device)
            #expect(try await Self.send(client, test, .post, device, body: good).status == .ok)

            var truncated = try Self.sealed(Data(repeating: 7, count: 1_000), for: device)
            truncated.removeLast(10)
            var wrongVersion = good
            wrongVersion[4] = 2
            let cases: [(Data, HTTPFields, HTTPResponse.Status, String)] = [
                (Data(), [:], .badRequest, "Request body is empty"),
                (Data("{\"not\":\"ffce\"}".utf8), [:], .badRequest, "Body does not appear to be a valid FFCE backup"),
                (Data("FFCE".utf8), [:], .badRequest, "Body does not appear to be a valid FFCE backup"),
                (truncated, [:], .badRequest, "Body does not appear to be a valid FFCE backup"),
                (wrongVersion, [:], .badRequest, "Body does not appear to be a valid FFCE backup"),
                (good, [.eTag: "\"abc\""], .badRequest, "ETag must be the quoted SHA-256 hex of the backup's plaintext"),
                (Data(repeating: 1, count: BackupLimits.maxBlob + 1), [:], .contentTooLarge, "Payload exceeds maximum size of 512 KB"),
            ]
            for (body, headers, status, message) in cases {
                let response = try await Self.send(client, test, .post, device, body: body, headers: headers)
                #expect(response.status == status, "\(message)")
                #expect(response.message == message)
            }
            var oversized: HTTPFields = [.contentLength: String(BackupLimits.maxBlob + 1), .contentType: "application/octet-stream"]
            for (name, value) in try device.sign(method: "POST", path: Self.path(device), at: test.now).fields {
                oversized[HTTPField.Name(name)!] = value
            }
            let declared = try await client.execute(
                uri: Self.path(device),
                method: .post,
                headers: oversized,
                body: ByteBuffer(repeating: 0, count: BackupLimits.maxBlob + 1)
            )
            #expect(declared.status == .contentTooLarge)
            let largest = try Self.sealed(Data(repeating: 0x41, count: BackupLimits.maxPlaintext), for: device)
            #expect(largest.count == BackupLimits.maxBlob)
            #expect(try await Self.send(client, test, .post, device, body: largest).status == .ok, "exactly 512 KiB of plaintext fits")
            #expect(try await test.store.backup(uuid: DeviceUUID.format(device.uuid))?.blob == largest)
        }
    }

    @Test(arguments: TestDatabase.all)
    func onlyTheDeviceItselfMayTouchItsBackup(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let owner = try await SignedRequestRouteTests.registered(test, client)
            let other = try await SignedRequestRouteTests.registered(test, client)
            let blob = try Self.sealed(Data("{\"secret\":1}".utf8), for: owner)
            #expect(try await Self.send(client, test, .post, owner, body: blob).status == .ok)

            // The other device, signing as itself for the owner's path: UUID header ≠ path.
            let headers = try other.sign(method: "GET", path: Self.path(owner), at: test.now)
            var fields: HTTPFields = [:]
            for (name, value) in headers.fields { fields[HTTPField.Name(name)!] = value }
            #expect(try await client.execute(uri: Self.path(owner), method: .get, headers: fields).status == .forbidden)
            // Claiming the owner's UUID with its own key: the signature does not verify.
            let forged = SimulatedDevice(uuid: owner.uuid, master: other.master)
            for method in [HTTPRequest.Method.get, .post, .delete] {
                let response = try await Self.send(client, test, method, owner, signer: forged, body: method == .post ? blob : Data())
                #expect(response.status == .unauthorized, "\(method)")
            }
            let unknown = SimulatedDevice()
            let refused = try await Self.send(client, test, .post, unknown, body: try Self.sealed(Data("{}".utf8), for: unknown))
            #expect(refused.status == .unauthorized, "unknown devices get 401 on backups (FireFly)")
            #expect(try await test.store.backup(uuid: DeviceUUID.format(owner.uuid))?.blob == blob)
            #expect(throws: FFCEError.self) { try FFCEContainer.open(blob, using: other.master.derive(.backup)) }
        }
    }

    /// POSTs to the backup route the registry has finished, by its request counter.
    static func backupPosts(_ client: any TestClientProtocol) async throws -> Int {
        let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        return text.split(separator: "\n").filter { $0.hasPrefix("ember_http_requests_total{") && $0.contains("backup") && $0.contains("POST") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int(Double($0) ?? -1) } }.reduce(0, +)
    }

    @Test(arguments: TestDatabase.all)
    func anUploadCutOffMidwayLeavesTheOldBackup(database: TestDatabase) async throws {
        try await database.withStore { store in
            let clock = ManualClock(start: Int64(Date().timeIntervalSince1970))
            let registry = Registry(configuration: RegistryConfiguration(), store: store, clock: clock)
            let app = Application(
                router: registry.buildRouter(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: TestRegistry.logger
            )
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let admin = try await registry.tokens.create(name: "admin", role: .admin, by: AuditActor(actor: "t", client: "t"))
                let device = SimulatedDevice()
                #expect(try await client.register(device, key: try await client.mintKey(admin)).status == .noContent)
                let now = DeviceTimestamp(epochSeconds: clock.now())
                let old = try Self.sealed(Data("{\"v\":1}".utf8), for: device)
                var fields: HTTPFields = [:]
                for (name, value) in try device.sign(method: "POST", path: Self.path(device), body: old, at: now).fields {
                    fields[HTTPField.Name(name)!] = value
                }
                #expect(try await client.execute(uri: Self.path(device), method: .post, headers: fields, body: ByteBuffer(data: old)).status == .ok)

                // A new 300 KiB upload whose connection dies after 100 KiB.
                let new = try Self.sealed(Data(repeating: 0x42, count: 300 * 1024), for: device)
                let signed = try device.sign(method: "POST", path: Self.path(device), body: new, at: now)
                var head = "POST \(Self.path(device)) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                head += "Content-Length: \(new.count)\r\n"
                for (name, value) in signed.fields { head += "\(name): \(value)\r\n" }
                head += "\r\n"
                try Self.sendThenClose(port: port, Data(head.utf8) + new.prefix(100 * 1024))
                // The server is done with the cut request once its metrics count a second POST to the backup route.
                let deadline = ContinuousClock.now + .seconds(20)
                while try await Self.backupPosts(client) < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                #expect(try await Self.backupPosts(client) == 2, "the cut-off upload was handled (and refused)")

                #expect(try await store.backup(uuid: DeviceUUID.format(device.uuid))?.blob == old)
                #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            }
        }
    }

    /// Writes `data` to a loopback connection and closes it without waiting for an answer.
    static func sendThenClose(port: Int, _ data: Data) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        try #require(connected)
        let sent = data.withUnsafeBytes { socketSend(fd, $0.baseAddress, $0.count) }
        try #require(sent == data.count)
    }
}

/// `send(2)`, which the suite's own `send` helpers hide.
private func socketSend(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.send(descriptor, buffer, count, 0)
    #else
    Darwin.send(descriptor, buffer, count, 0)
    #endif
}
