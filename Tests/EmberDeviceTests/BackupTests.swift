import EmberClient
import EmberCloud
import EmberCore
import EmberDevice
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Testing

/// The Controller's `/backup` and `/api/cloud-backup` against a simulated board and a real registry.
struct BackupTests {
    static func json(kib: Int) -> Data {
        var text = #"{"formatName":"dexie","formatVersion":1,"data":{"databaseName":"FireFly-Controller","tables":[],"data":["#
        var index = 0
        while text.utf8.count < kib * 1024 - 64 {
            text += (index == 0 ? "" : ",") + #"{"circuit":\#(index),"name":"Circuit \#(index)"}"#
            index += 1
        }
        return Data((text + "]}}").utf8)
    }

    @Test func localBackupStoresJSONWithItsETag() async throws {
        try await TestDevice.with { device in
            #expect(try await device.request(.head, "/backup").status == .notFound)
            #expect(try await device.request(.get, "/backup").status == .notFound)
            for method in [HTTPRequest.Method.head, .get, .put, .delete] {
                #expect(try await device.request(method, "/backup", authorized: false).status == .unauthorized)
            }
            let notJSON = try await device.request(.put, "/backup", body: Data("<xml/>".utf8))
            #expect(notJSON.status == .badRequest && notJSON.message?.hasPrefix("Backup must be a JSON document") == true)

            let body = Self.json(kib: 100)
            let put = try await device.request(.put, "/backup", body: body)
            #expect(put.status == .noContent)
            let etag = BackupETag.quoted(BackupETag.of(body))
            let head = try await device.request(.head, "/backup")
            #expect(head.status == .ok && head.headers[.eTag] == etag && head.body.readableBytes == 0)
            let get = try await device.request(.get, "/backup")
            #expect(Data(buffer: get.body) == body && get.headers[.eTag] == etag && get.headers[.contentType] == "application/json")
            let sidecar = try String(contentsOf: device.folder.appendingPathComponent("config/backup.etag"), encoding: .utf8)
            #expect(sidecar == BackupETag.of(body), "64 hex, no quotes, no newline")

            let tooBig = try await device.request(.put, "/backup", body: Data(repeating: 0x20, count: BackupLimits.maxPlaintext + 1))
            #expect(tooBig.status == .contentTooLarge && tooBig.message?.hasPrefix("Backup exceeds the 512 KiB limit") == true)
            #expect(Data(buffer: try await device.request(.get, "/backup").body) == body, "the old file is untouched")

            #expect(try await device.request(.delete, "/backup").status == .noContent)
            #expect(try await device.request(.delete, "/backup").status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: device.folder.appendingPathComponent("config/backup.etag").path))
        }
    }

    /// The security review's low: device-agent 500 bodies held file paths.
    @Test func aStorageFailureIs500WithoutAPath() async throws {
        try await TestDevice.with { device in
            // A folder where the file should be: the write fails for root too.
            let folder = await device.agent.board.config.folder
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("backup.json/blocker"), withIntermediateDirectories: true)
            let response = try await device.request(.put, "/backup", body: Self.json(kib: 1))
            #expect(response.status == .internalServerError)
            #expect(response.message == "Device storage failure")
            let text = String(buffer: response.body)
            #expect(!text.contains("/") && !text.contains(folder.lastPathComponent), "\(text)")
        }
    }

    @Test func aStaleSidecarIsRepairedAtBoot() async throws {
        try await TestDevice.with { device in
            let partition = try ConfigPartition(folder: device.folder.appendingPathComponent("config"))
            try partition.write("backup.json", Data("[1,2,3]".utf8))
            try partition.write("backup.etag", Data(String(repeating: "0", count: 64).utf8))
            try partition.write(".backup.json.tmp-42", Data("half".utf8))
            try await device.agent.reboot()
            #expect(try await device.request(.head, "/backup").headers[.eTag] == BackupETag.quoted(BackupETag.of(Data("[1,2,3]".utf8))))
            #expect(!partition.exists(".backup.json.tmp-42"))
        }
    }

    @Test func cloudBackupRefusesWhatItCannotDo() async throws {
        try await TestDevice.with(waitForClock: false, prepare: clockNeverSyncs) { device in
            for method in [HTTPRequest.Method.post, .get, .delete] {
                #expect(try await device.request(method, "/api/cloud-backup", authorized: false).status == .unauthorized)
                let response = try await device.request(method, "/api/cloud-backup")
                #expect(response.status == .conflict && response.message == "Device not provisioned", "\(method)")
            }
            try await device.provision()
            for method in [HTTPRequest.Method.post, .get, .delete] {
                let response = try await device.request(method, "/api/cloud-backup")
                #expect(response.status == .serviceUnavailable && response.message == "Clock not synchronized", "\(method)")
            }
        }
    }

    @Test func pushRestoreDeleteThroughARealRegistry() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let uuid = try await device.register(with: cloud)
                let missing = try await device.request(.post, "/api/cloud-backup")
                #expect(missing.status == .notFound && missing.message?.contains("PUT /backup first") == true)
                #expect(try await device.request(.get, "/api/cloud-backup").status == .notFound)

                let body = Self.json(kib: 300)
                _ = try await device.request(.put, "/backup", body: body)
                let pushed = try await device.request(.post, "/api/cloud-backup")
                #expect(pushed.status == .ok && String(buffer: pushed.body) == #"{"status":200}"#)
                let stored = try #require(try await cloud.store.backup(uuid: uuid))
                #expect(stored.info.etag == BackupETag.of(body))
                #expect(stored.blob.range(of: body.prefix(64)) == nil, "only ciphertext reaches the cloud")
                #expect(String(buffer: try await device.request(.post, "/api/cloud-backup").body) == #"{"status":304}"#)
                #expect(try await cloud.store.backup(uuid: uuid)?.blob == stored.blob, "an unchanged push stores nothing new")

                #expect(try await device.request(.delete, "/backup").status == .noContent)
                let restored = try await device.request(.get, "/api/cloud-backup")
                #expect(restored.status == .ok)
                #expect(Data(buffer: restored.body) == body)
                #expect(restored.headers[.eTag] == BackupETag.quoted(BackupETag.of(body)))
                #expect(Data(buffer: try await device.request(.get, "/backup").body) == body)
                #expect(try await device.request(.head, "/backup").headers[.eTag] == BackupETag.quoted(BackupETag.of(body)))

                let deleted = try await device.request(.delete, "/api/cloud-backup")
                #expect(deleted.status == .noContent, "\(deleted.message ?? "")")
                #expect(try await cloud.store.backup(uuid: uuid) == nil)
                #expect(try await device.request(.head, "/backup").status == .notFound, "the local file and sidecar go too")
                let texts = try await device.events().map(\.text)
                for text in ["Backup uploaded OK", "Backup unchanged", "Backup restored", "Backup deleted"] {
                    #expect(texts.contains(text), "\(text)")
                }
            }
        }
    }

    @Test func aDamagedOrForeignCloudBlobLeavesTheLocalFileAlone() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                let uuid = try await device.register(with: cloud)
                let body = Self.json(kib: 4)
                _ = try await device.request(.put, "/backup", body: body)
                #expect(try await device.request(.post, "/api/cloud-backup").status == .ok)
                let good = try #require(try await cloud.store.backup(uuid: uuid)).blob
                let local = Data(#"{"local":"edits"}"#.utf8)
                _ = try await device.request(.put, "/backup", body: local)

                var flipped = good
                flipped[flipped.count / 2] ^= 0x01
                let foreign = try FFCEContainer.seal(body, using: MasterKey.random().derive(.backup))
                for blob in [flipped, Data(good.prefix(good.count - 100)), foreign] {
                    _ = try await cloud.store.storeBackup(uuid: uuid, blob: blob, etag: BackupETag.of(body), ifNoneMatch: nil, now: 0)
                    let response = try await device.request(.get, "/api/cloud-backup")
                    #expect(response.status == .badGateway)
                    #expect(response.message?.contains("does not decrypt with this device's key") == true)
                    #expect(Data(buffer: try await device.request(.get, "/backup").body) == local, "the local file is untouched")
                }
                #expect(
                    try await device.request(.get, "/api/errors", authorized: false).json([ErrorEntry].self).map(\.text).contains(
                        "Backup decrypt fail"
                    )
                )
            }
        }
    }

    @Test func cloudDownDuringPushLeavesTheFileAndLogsIt() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url) { device in
                try await device.register(with: cloud)
                let body = Self.json(kib: 2)
                _ = try await device.request(.put, "/backup", body: body)
                try SimulatedBoard.update(device.folder) { $0.faults.cloudUnreachable = true }
                try await device.agent.reboot()
                try await eventually { await device.agent.clockSynchronized }
                let response = try await device.request(.post, "/api/cloud-backup")
                #expect(response.status == .badGateway && response.message == "Cloud unreachable")
                #expect(try await device.events().last?.text == "Backup upload fail")
                #expect(Data(buffer: try await device.request(.get, "/backup").body) == body)
            }
        }
    }

    @Test func automaticBackupRunsSkipsAndSurvivesAnOutage() async throws {
        try await LiveCloud.with { cloud in
            try await TestDevice.with(cloud: cloud.url, configure: { $0.backupInterval = 1 }) { device in
                let uuid = try await device.register(with: cloud)
                for _ in 0..<3 {
                    try await device.runSchedule(.backup)
                    try await device.scheduleIdle(.backup)
                }
                #expect(try await !device.events().contains { $0.text.hasPrefix("Backup") }, "no /backup.json: three rounds skipped silently")

                let body = Self.json(kib: 8)
                _ = try await device.request(.put, "/backup", body: body)
                try await device.runSchedule(.backup)
                try await device.scheduleIdle(.backup)
                #expect(try await device.events().last?.text == "Backup uploaded OK")
                try await device.runSchedule(.backup)
                try await device.scheduleIdle(.backup)
                #expect(try await device.events().last?.text == "Backup unchanged")
                #expect(try await cloud.store.backupInfo(uuid: uuid)?.etag == BackupETag.of(body))

                try SimulatedBoard.update(device.folder) { $0.faults.cloudUnreachable = true }
                try await device.agent.reboot()
                try await eventually { await device.agent.clockSynchronized }
                for _ in 0..<2 {
                    try await device.runSchedule(.backup)
                    try await device.scheduleIdle(.backup)
                }
                #expect(try await device.events().filter { $0.text == "Backup upload fail" }.count == 2, "one failure per round")
                #expect(
                    try await device.request(.get, "/api/errors", authorized: false).json([ErrorEntry].self).map(\.text) == ["Backup upload fail"]
                )

                let changed = Self.json(kib: 9)
                _ = try await device.request(.put, "/backup", body: changed)
                try SimulatedBoard.update(device.folder) { $0.faults.cloudUnreachable = false }
                try await device.agent.reboot()
                try await eventually { await device.agent.clockSynchronized }
                try await device.runSchedule(.backup)
                try await device.scheduleIdle(.backup)
                #expect(try await cloud.store.backupInfo(uuid: uuid)?.etag == BackupETag.of(changed))
                #expect(try await device.request(.get, "/api/errors", authorized: false).json([ErrorEntry].self).isEmpty)
            }
        }
    }
}
