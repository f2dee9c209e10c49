import Crypto
import EmberClient
import EmberCore
import Foundation
import Logging
import NIOHTTP1

/// The Controller role's backup: the local `/backup.json`, and its encrypted copy in the cloud (seed 002).
extension DeviceAgent {
    /// `GET`/`HEAD /backup`.
    public func localBackup() throws(AgentFailure) -> (data: Data, etag: String)? {
        do { return try LocalBackup(partition: board.config).read() } catch { throw .hardware(error) }
    }

    /// `PUT /backup`: JSON of at most 512 KiB, written atomically with its sidecar.
    public func putLocalBackup(_ data: Data) async throws(AgentFailure) {
        guard data.count <= BackupLimits.maxPlaintext else { throw .tooLarge("Backup exceeds the 512 KiB limit (\(data.count) bytes)") }
        guard (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil else {
            throw .invalidInput("Backup must be a JSON document (the Controller UI's export)")
        }
        let backup = LocalBackup(partition: board.config)
        try await offload { () throws(HardwareError) in try backup.write(data) }
    }

    /// `DELETE /backup`; false when there was none.
    public func deleteLocalBackup() async throws(AgentFailure) -> Bool {
        let backup = LocalBackup(partition: board.config)
        return try await offload { () throws(HardwareError) in try backup.delete() }
    }

    /// What every cloud-backup call needs: an identity, a registration the cloud has not denied, the time, a cloud.
    private func backupPreconditions() throws(AgentFailure) -> (identity: IdentityBlock, root: String) {
        guard let identity = try identity() else { throw .backupNeedsIdentity }
        if case .known(registered: false, _, _) = registration { throw .backupNeedsRegistration }
        guard clockSynchronized else { throw .clockNotSynchronized }
        guard let root = cloudRoot() else { throw .backupNeedsCloud }
        return (identity, root)
    }

    /// A signed backup request; an unreachable cloud records `failEvent`, a local failure stays local.
    private func backupRequest(
        _ call: AgentFailure.CloudCall,
        _ method: HTTPMethod,
        identity: IdentityBlock,
        root: String,
        failEvent: (EventLevel, String),
        body: Data = Data(),
        headers: [(String, String)] = [],
        timeoutSeconds: Int64
    ) async throws(AgentFailure) -> RegistryClient.Reply {
        do {
            return try await cloud.signed(
                method,
                "/devices/\(DeviceUUID.format(identity.uuid))/backup",
                identity: identity,
                root: root,
                body: body,
                headers: headers,
                timeoutSeconds: timeoutSeconds
            )
        } catch {
            switch error {
            case .unreachable:
                event(failEvent.0, failEvent.1)
                throw .cloudUnreachable(call, retrying: false)
            case .local(let error):
                throw .hardware(error)
            }
        }
    }

    /// `POST /api/cloud-backup`: encrypts `/backup.json` with the backup key and a fresh nonce and uploads it;
    /// returns the cloud's status (200, 204 or 304). An unchanged file costs one 304.
    public func pushBackup() async throws(AgentFailure) -> Int {
        let (identity, root) = try backupPreconditions()
        guard let (plaintext, etag) = try localBackup() else { throw .notFound("No /backup.json to push; PUT /backup first") }
        let key: SymmetricKey
        do { key = try board.deriveKey(.backup) } catch { throw .hardware(error) }
        guard let blob = try? FFCEContainer.seal(plaintext, using: key) else {
            event(.error, "Backup upload fail")
            throw .hardware(.encryptionFailed)
        }
        let quoted = BackupETag.quoted(etag)
        let headers = [(FireFlyHeader.contentType, "application/octet-stream"), (FireFlyHeader.eTag, quoted), (FireFlyHeader.ifNoneMatch, quoted)]
        let status = try await backupRequest(
            .backupUpload,
            .POST,
            identity: identity,
            root: root,
            failEvent: (.error, "Backup upload fail"),
            body: blob,
            headers: headers,
            timeoutSeconds: 30
        ).status
        switch status {
        case 401:
            // Seed 002: a cloud that does not know this device means it is not registered there.
            event(.notify, "Backup up fail \(status)")
            throw .backupNeedsRegistration
        case 200, 204, 304:
            log.resolve("Backup upload fail")
            event(.info, status == 304 ? "Backup unchanged" : "Backup uploaded OK")
            return status
        default:
            event(.notify, "Backup up fail \(status)")
            throw .cloudRefused(.backupUpload, status: status, message: "")
        }
    }

    /// `GET /api/cloud-backup`: downloads, decrypts and writes `/backup.json` and its sidecar; returns the plaintext.
    /// A blob that does not decrypt leaves the local file untouched.
    public func retrieveBackup() async throws(AgentFailure) -> (data: Data, etag: String) {
        let (identity, root) = try backupPreconditions()
        let reply = try await backupRequest(
            .backupFetch,
            .GET,
            identity: identity,
            root: root,
            failEvent: (.notify, "Backup fetch fail"),
            timeoutSeconds: 30
        )
        switch reply.status {
        case 200: break
        case 404: throw .notFound("No backup in the cloud for this device")
        case 401: throw .backupNeedsRegistration
        default:
            event(.notify, "Backup fetch fail")
            throw .cloudRefused(.backupFetch, status: reply.status, message: "")
        }
        let key: SymmetricKey
        do { key = try board.deriveKey(.backup) } catch { throw .hardware(error) }
        guard let plaintext = try? FFCEContainer.open(reply.body, using: key) else {
            event(.error, "Backup decrypt fail")
            throw .backupUndecryptable
        }
        let etag = BackupETag.of(plaintext)
        if let header = reply.headers.first(where: { $0.0.lowercased() == "etag" })?.1, let cloudETag = BackupETag.parse(header), cloudETag != etag {
            logger.warning("the cloud's ETag does not match the restored backup; using the backup's own hash")
        }
        let backup = LocalBackup(partition: board.config)
        try await offload { () throws(HardwareError) in try backup.write(plaintext) }
        event(.info, "Backup restored")
        return (plaintext, etag)
    }

    /// `DELETE /api/cloud-backup`: deletes the cloud copy, then the local file and its sidecar.
    public func deleteCloudBackup() async throws(AgentFailure) {
        let (identity, root) = try backupPreconditions()
        let reply = try await backupRequest(
            .backupDelete,
            .DELETE,
            identity: identity,
            root: root,
            failEvent: (.notify, "Backup del fail"),
            timeoutSeconds: 15
        )
        // Ember's registry says whether a backup was there; FireFly's cloud answers 200 either way.
        let existed = (try? JSONDecoder().decode(BackupDeleted.self, from: reply.body))?.existed ?? true
        switch reply.status {
        case 200 where !existed:
            throw .notFound("No backup in the cloud for this device")
        case 200, 204:
            _ = try await deleteLocalBackup()
            event(.info, "Backup deleted")
        case 404:
            throw .notFound("No backup in the cloud for this device")
        case 401:
            throw .backupNeedsRegistration
        default:
            event(.notify, "Backup del fail")
            throw .cloudRefused(.backupDelete, status: reply.status, message: "")
        }
    }

    /// Automatic backup on the agent's clock: the first attempt after 30 s (or one interval when shorter), then
    /// every interval. Skipped silently without `/backup.json`, an identity or the time; failures wait for the next tick.
    func runBackupSchedule() async {
        var delay = min(30, backupInterval)
        while !Task.isCancelled {
            do { try await clock.sleep(for: delay, on: .backup) } catch { return }
            let interval = backupInterval
            delay = interval
            guard LocalBackup(partition: board.config).exists, clockSynchronized, (try? board.identity()) != nil else { continue }
            event(.info, "Backup upload start")
            do {
                _ = try await pushBackup()
            } catch {
                logger.info("automatic backup failed; next try in \(interval) s", metadata: ["ember.reason": "\(error)"])
            }
        }
    }
}
