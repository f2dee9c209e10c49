import EmberClient
import EmberCore
import Foundation

/// The Controller role's backup: the local `/backup.json`, and its encrypted copy in the cloud (seed 002).
extension DeviceAgent {
    /// `GET`/`HEAD /backup`.
    public func localBackup() throws -> (data: Data, etag: String)? {
        do { return try LocalBackup(partition: board.config).read() } catch { throw AgentError(500, error.description) }
    }

    /// `PUT /backup`: JSON of at most 512 KiB, written atomically with its sidecar.
    public func putLocalBackup(_ data: Data) throws {
        guard data.count <= BackupLimits.maxPlaintext else {
            throw AgentError(413, "Backup exceeds the 512 KiB limit (\(data.count) bytes)")
        }
        guard (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil else {
            throw AgentError(400, "Backup must be a JSON document (the Controller UI's export)")
        }
        do { try LocalBackup(partition: board.config).write(data) } catch { throw AgentError(500, error.description) }
    }

    /// `DELETE /backup`; false when there was none.
    public func deleteLocalBackup() throws -> Bool {
        do { return try LocalBackup(partition: board.config).delete() } catch { throw AgentError(500, error.description) }
    }

    /// What every cloud-backup call needs: an identity, a registration the cloud has not denied, the time, a cloud.
    private func backupPreconditions() throws -> (identity: IdentityBlock, root: String) {
        guard let identity = try identity() else { throw AgentError(409, "Device not provisioned") }
        if case .known(registered: false, _, _) = registration { throw AgentError(409, "Device not registered with the cloud") }
        guard clockSynchronized else { throw AgentError.clockNotSynchronized }
        guard let root = cloudRoot() else { throw AgentError(409, "No cloud configured; register the device first") }
        return (identity, root)
    }

    private func backupPath(_ identity: IdentityBlock) -> String {
        "/devices/\(DeviceUUID.format(identity.uuid))/backup"
    }

    /// `POST /api/cloud-backup`: encrypts `/backup.json` with the backup key and a fresh nonce and uploads it;
    /// returns the cloud's status (200, 204 or 304). An unchanged file costs one 304.
    public func pushBackup() async throws -> Int {
        let (identity, root) = try backupPreconditions()
        guard let (plaintext, etag) = try localBackup() else { throw AgentError(404, "No /backup.json to push; PUT /backup first") }
        let blob: Data
        do {
            blob = try FFCEContainer.seal(plaintext, using: board.deriveKey(.backup))
        } catch {
            event(.error, "Backup upload fail")
            throw AgentError(500, "Encryption failed: \(error)")
        }
        let reply: Int
        do {
            reply = try await cloud.signed(
                .POST, backupPath(identity), identity: identity, root: root, body: blob,
                headers: [
                    ("Content-Type", "application/octet-stream"), ("ETag", BackupETag.quoted(etag)),
                    ("If-None-Match", BackupETag.quoted(etag)),
                ], timeoutSeconds: 30
            ).status
        } catch let error as DeviceCloud.Unreachable {
            event(.error, "Backup upload fail")
            throw AgentError(502, error.reason)
        }
        switch reply {
        case 200, 204:
            log.resolve("Backup upload fail")
            event(.info, "Backup uploaded OK")
            return reply
        case 304:
            log.resolve("Backup upload fail")
            event(.info, "Backup unchanged")
            return reply
        default:
            event(.notify, "Backup up fail \(reply)")
            throw AgentError(502, "Cloud refused the backup (HTTP \(reply))", cloudStatus: reply)
        }
    }

    /// `GET /api/cloud-backup`: downloads, decrypts and writes `/backup.json` and its sidecar; returns the plaintext.
    /// A blob that does not decrypt leaves the local file untouched.
    public func retrieveBackup() async throws -> (data: Data, etag: String) {
        let (identity, root) = try backupPreconditions()
        let reply: RegistryClient.Reply
        do {
            reply = try await cloud.signed(.GET, backupPath(identity), identity: identity, root: root, timeoutSeconds: 30)
        } catch let error as DeviceCloud.Unreachable {
            event(.notify, "Backup fetch fail")
            throw AgentError(502, error.reason)
        }
        switch reply.status {
        case 200: break
        case 404: throw AgentError(404, "No backup in the cloud for this device")
        default:
            event(.notify, "Backup fetch fail")
            throw AgentError(502, "Cloud returned unexpected response (HTTP \(reply.status))", cloudStatus: reply.status)
        }
        let plaintext: Data
        do {
            plaintext = try FFCEContainer.open(reply.body, using: board.deriveKey(.backup))
        } catch {
            event(.error, "Backup decrypt fail")
            throw AgentError(
                502, "The cloud's backup does not decrypt with this device's key (damaged, or made by another device): \(error)")
        }
        let etag = BackupETag.of(plaintext)
        if let header = reply.headers.first(where: { $0.0.lowercased() == "etag" })?.1, let cloudETag = BackupETag.parse(header),
            cloudETag != etag
        {
            logger.warning("the cloud's ETag does not match the restored backup; using the backup's own hash")
        }
        do { try LocalBackup(partition: board.config).write(plaintext) } catch { throw AgentError(500, error.description) }
        event(.info, "Backup restored")
        return (plaintext, etag)
    }

    /// `DELETE /api/cloud-backup`: deletes the cloud copy, then the local file and its sidecar.
    public func deleteCloudBackup() async throws {
        let (identity, root) = try backupPreconditions()
        let status: Int
        do {
            status = try await cloud.signed(.DELETE, backupPath(identity), identity: identity, root: root, timeoutSeconds: 15).status
        } catch let error as DeviceCloud.Unreachable {
            event(.notify, "Backup del fail")
            throw AgentError(502, error.reason)
        }
        switch status {
        case 200, 204:
            _ = try deleteLocalBackup()
            event(.info, "Backup deleted")
        case 404:
            throw AgentError(404, "No backup in the cloud for this device")
        default:
            event(.notify, "Backup del fail")
            throw AgentError(502, "Cloud returned unexpected status (HTTP \(status))", cloudStatus: status)
        }
    }

    /// Automatic backup: the first attempt after 30 s (or one interval when shorter), then every interval.
    /// Skipped silently without `/backup.json`, an identity or the time; failures wait for the next tick.
    func runBackupSchedule(interval: Double) async {
        var delay = min(30, interval)
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(Int(delay * 1000))) } catch { return }
            delay = interval
            guard LocalBackup(partition: board.config).exists, clockSynchronized, (try? board.identity()) != nil else { continue }
            event(.info, "Backup upload start")
            do {
                _ = try await pushBackup()
            } catch {
                logger.info("automatic backup failed; next try in \(interval) s", metadata: ["reason": "\(error)"])
            }
        }
    }
}
