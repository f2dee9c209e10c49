import EmberCore
import Foundation

/// Devices' encrypted backups: the registry checks the container's shape and stores it; it cannot decrypt it.
public struct Backups: Sendable {
    let store: any BackupRepository
    let clock: any RegistryClock
    let metrics: EmberMetrics
    let uploadSlots: UploadSlots

    static let tooLarge = RegistryError.payloadTooLarge("Payload exceeds maximum size of 512 KB")

    /// Refuses a declared body larger than a backup may be, before any of it is read.
    func checkDeclaredLength(_ contentLength: String?) throws {
        guard let contentLength, let length = Int(contentLength), length > BackupLimits.maxBlob else { return }
        metrics.backup("too_large")
        throw Self.tooLarge
    }

    /// The body turned out larger than a backup may be.
    func refuseOversizedBody() -> RegistryError {
        metrics.backup("too_large")
        return Self.tooLarge
    }

    /// Stores `blob` for an authenticated device; `etag` and `ifNoneMatch` are the raw header values.
    func upload(
        _ blob: Data,
        for device: DeviceCredential,
        etag etagHeader: String?,
        ifNoneMatch: String?
    ) async throws
        -> (outcome: BackupStoreOutcome, etag: String)
    {
        guard !blob.isEmpty else {
            metrics.backup("empty")
            throw RegistryError.badRequest("Request body is empty")
        }
        guard (try? FFCEContainer.header(of: blob)) != nil else {
            metrics.backup("not_ffce")
            throw RegistryError.badRequest("Body does not appear to be a valid FFCE backup")
        }
        var etag = ""
        if let etagHeader {
            guard let parsed = BackupETag.parse(etagHeader) else {
                metrics.backup("bad_etag")
                throw RegistryError.badRequest("ETag must be the quoted SHA-256 hex of the backup's plaintext")
            }
            etag = parsed
        }
        let match = etag.isEmpty ? nil : ifNoneMatch.flatMap(BackupETag.parse)
        let outcome = try await store.storeBackup(uuid: device.uuid, blob: blob, etag: etag, ifNoneMatch: match, now: clock.now())
        switch outcome {
        case .stored:
            metrics.backup("stored")
            metrics.backupBytesStored(blob.count)
        case .notModified:
            metrics.backup("not_modified")
        }
        return (outcome, etag)
    }

    /// The device's stored backup.
    func download(for device: DeviceCredential) async throws -> StoredBackup {
        guard let backup = try await store.backup(uuid: device.uuid) else {
            throw RegistryError.notFound("No backup found for this device")
        }
        metrics.backup("downloaded")
        return backup
    }

    /// Deletes the device's backup; false when it had none (still a success: FireFly's DELETE is idempotent).
    func delete(for device: DeviceCredential, client: String) async throws -> Bool {
        let audit = AuditEvent(
            at: clock.now(),
            by: AuditActor(actor: "device:\(device.uuid)", client: client),
            action: "backup.deleted",
            subject: device.uuid
        )
        guard try await store.deleteBackup(uuid: device.uuid, audit: audit) else { return false }
        metrics.backup("deleted")
        return true
    }
}
