import EmberCore
import Foundation

/// What a device's signature is checked against, with the FireFly status fields a signed check returns.
public struct DeviceCredential: Sendable, Equatable {
    /// A key that verifies this device's signatures.
    public struct Key: Sendable, Equatable {
        public var epoch: Int
        public var publicKey: String
        /// Submitted by rotation and not used yet: the first request it verifies promotes it.
        public var pending: Bool
    }

    public var uuid: String
    /// The active key, and the pending one when a rotation is under way; never a retired key.
    public var keys: [Key]
    /// Unix seconds; nil while the device is in service.
    public var decommissionedAt: Int64?
    public var productID: String
    public var productHex: String
    public var deviceClass: String
    public var registrationDate: Int64
    public var registeringApplication: String
    public var registeringVersion: String
    /// The epoch of the key that verified the request (set by the authenticator).
    public var signedWith: Int = 0
    /// Whether unfinished actions wait for the device; nil when the read did not count them.
    public var hasOpenActions: Bool?
    /// When the registry first accepted a v2 signature from the device: from then on it refuses the device's v1.
    public var signsV2Since: Int64?

    public var decommissioned: Bool { decommissionedAt != nil }
}

/// One migration and whether this database has it.
public struct MigrationState: Codable, Sendable, Equatable {
    public var version: Int
    public var name: String
    /// Unix seconds; nil while pending.
    public var appliedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case version, name
        case appliedAt = "applied_at"
    }
}

/// The registry's persistence: one repository per resource, all implemented by `SQLStore` on SQLite and
/// PostgreSQL. Services take the repository they need; every change that matters writes its audit rows in the
/// same transaction.
public protocol Store: SchemaRepository, AdminTokenRepository, RegistrationKeyRepository, DeviceRepository, BackupRepository,
    GuardRepository, AuditRepository, ActionRepository, DeviceKeyRepository, ConsoleRepository, OnboardingRepository, AccountRepository
{}

/// The database itself: schema, health, lifetime.
public protocol SchemaRepository: Sendable {
    /// Applies pending migrations; refuses a schema newer than this build.
    func migrate(now: Int64) async throws
    /// Every migration this build knows, with when it was applied here (nil when pending).
    func migrationStatus() async throws -> [MigrationState]
    /// Succeeds when the database answers.
    func ping() async throws
    /// Closes the database.
    func close() async throws
    /// Where the data lives, for the start-up line (never credentials).
    var location: String { get }
}

/// Admin API tokens, stored as hashes.
public protocol AdminTokenRepository: Sendable {
    /// `accountID` binds a `user` token to its account.
    func createAdminToken(name: String, role: AdminRole, accountID: String?, hash: String, audit: AuditEvent) async throws
    /// The unrevoked token with this SHA-256 hash.
    func adminToken(hash: String) async throws -> AdminTokenRecord?
    func adminTokens() async throws -> [AdminTokenRecord]
    /// Revokes an active token; false when there is none by that name.
    func revokeAdminToken(name: String, audit: AuditEvent) async throws -> Bool
    func hasActiveAdminToken() async throws -> Bool
}

/// Single-use registration keys. The store never sees a key: `key` arguments and fields are its lookup (a keyed
/// hash), and the record carries the key sealed (see `RegistrationKeySealer`).
public protocol RegistrationKeyRepository: Sendable {
    /// Stores a freshly minted key; false when the lookup is taken (mint another).
    func insertRegistrationKey(_ record: RegistrationKeyRecord, audit: AuditEvent) async throws -> Bool
    /// Inserts `count` keys from `generate` (called again for as many as collided with stored keys) and the audit row
    /// in one transaction; the records inserted, or nil when 16 rounds left keys missing (nothing is written).
    func insertRegistrationKeys(
        count: Int,
        generate: @Sendable (Int) throws -> [RegistrationKeyRecord],
        audit: AuditEvent
    ) async throws -> [RegistrationKeyRecord]?
    /// The keys `createdBy` minted that are unspent, unrevoked and unexpired at `now`, oldest first.
    func activeRegistrationKeys(createdBy: String, now: Int64) async throws -> [RegistrationKeyRecord]
    /// Revokes one of `createdBy`'s active keys; false when it has no such key.
    func revokeRegistrationKey(_ key: String, createdBy: String, now: Int64, audit: AuditEvent) async throws -> Bool
    /// The fingerprint of the key-encryption key this database's keys are sealed with: `fingerprint` when none was
    /// recorded yet (it is recorded now), else the recorded one.
    func keyEncryptionFingerprint(claiming fingerprint: String) async throws -> String
    /// Replaces every plaintext key (from before keys were sealed) by its lookup and sealed form, in one transaction;
    /// returns how many there were.
    func sealPlaintextRegistrationKeys(_ seal: @Sendable (String) throws -> (lookup: String, sealed: String)) async throws -> Int
}

/// Registered devices.
public protocol DeviceRepository: Sendable {
    /// Registers a device with a key, atomically: the key is spent by one conditional statement.
    func register(
        _ registration: DeviceRegistration,
        key: RegistrationKeyReference,
        now: Int64,
        by actor: AuditActor
    ) async throws
        -> RegistrationOutcome
    func device(uuid: String) async throws -> DeviceRecord?
    /// The device's keys and status; with `countingOpenActions`, also whether actions wait for it (in the same read).
    func deviceCredential(uuid: String, countingOpenActions: Bool) async throws -> DeviceCredential?
    /// Devices ordered by UUID, after the given UUID (keyset pagination), those `filter` matches.
    func devices(limit: Int, after: String?, filter: DeviceFilter) async throws -> [DeviceRecord]
    /// Devices per product and state.
    func productCounts() async throws -> [ProductCount]
    /// Registrations per UTC day from `since` (Unix seconds) on; days without any are left out.
    func registrationsPerDay(since: Int64) async throws -> [DayCount]
    /// Stores what devices reported at their check-ins (batched: many devices in one transaction).
    func recordCheckIns(_ checkIns: [String: LastCheckIn]) async throws
    /// Decommissions a device from its own notice, or returns when it already was: in one transaction
    /// `decommissioned_at` (write-once), the backup deleted, open actions cancelled (`actionID`'s marked done), the audit
    /// row with the device's log. Nil for an unknown device.
    func recordDecommissionNotice(uuid: String, actionID: Int64?, audit: AuditEvent) async throws -> Int64?
}

/// The actions waiting for devices (the check-in channel).
public protocol ActionRepository: Sendable {
    /// Queues an action; a `decommission` takes effect in the same transaction (see `ActionCreation`).
    func createAction(
        uuid: String,
        type: ActionType,
        reason: String,
        config: JSONValue?,
        now: Int64,
        by actor: AuditActor
    ) async throws
        -> ActionCreation
    /// A device's actions, newest first; nil for an unknown device.
    func actions(uuid: String) async throws -> [DeviceAction]?
    /// The unfinished actions a check-in returns (only `decommission` ones for a decommissioned device), oldest first;
    /// pending ones become delivered.
    func deliverActions(uuid: String, decommissioned: Bool, now: Int64) async throws -> [DeviceAction]
    /// Cancels a pending action.
    func cancelAction(uuid: String, id: Int64, now: Int64, by actor: AuditActor) async throws -> ActionCancellation
    /// Records a device's result for one of its actions.
    func completeAction(
        uuid: String,
        id: Int64,
        state: ActionState,
        detail: String,
        now: Int64,
        by actor: AuditActor
    ) async throws
        -> ActionCompletion
}

/// Every key a device has had, by epoch.
public protocol DeviceKeyRepository: Sendable {
    /// Stores the next epoch's key as pending (replacing a pending key of the same epoch).
    func submitKey(uuid: String, epoch: Int, publicKey: String, now: Int64, audit: AuditEvent) async throws -> KeySubmissionOutcome
    /// Makes the pending key of `epoch` (still `publicKey`) active and the active one retired, in one statement;
    /// false when it was no longer pending.
    func promoteKey(uuid: String, epoch: Int, publicKey: String, now: Int64) async throws -> Bool
    /// A device's keys, oldest epoch first.
    func deviceKeys(uuid: String) async throws -> [DeviceKeyInfo]
}

/// What `createAction` did.
public enum ActionCreation: Sendable, Equatable {
    case created(DeviceAction)
    case unknownDevice
    case decommissioned
}

/// What `cancelAction` did.
public enum ActionCancellation: Sendable, Equatable {
    case cancelled
    /// It was cancelled before: nothing changed.
    case alreadyCancelled
    case notFound
    /// Delivered or finished: too late to cancel.
    case alreadyDelivered
}

/// What `completeAction` did.
public enum ActionCompletion: Sendable, Equatable {
    case recorded
    /// The same result was recorded before.
    case repeated
    /// The action was finished with another result, or cancelled.
    case conflict
    case notFound
}

/// What `submitKey` did.
public enum KeySubmissionOutcome: Sendable, Equatable {
    case created
    /// This key is already the pending key of the epoch.
    case same
    /// Another pending key of this epoch was replaced.
    case replaced
    /// The epoch is not the active one plus one.
    case wrongEpoch(expected: Int)
}

extension DeviceRepository {
    /// The device's keys and status.
    public func deviceCredential(uuid: String) async throws -> DeviceCredential? {
        try await deviceCredential(uuid: uuid, countingOpenActions: false)
    }
}

/// Devices' encrypted backups.
public protocol BackupRepository: Sendable {
    /// Stores a device's backup, replacing the previous one atomically. With `ifNoneMatch` equal to the stored ETag
    /// nothing is written and the outcome is `.notModified`.
    func storeBackup(uuid: String, blob: Data, etag: String, ifNoneMatch: String?, now: Int64) async throws -> BackupStoreOutcome
    /// A device's backup, blob included.
    func backup(uuid: String) async throws -> StoredBackup?
    /// A device's backup without the blob.
    func backupInfo(uuid: String) async throws -> BackupInfo?
    /// Deletes a device's backup; false when there was none. The audit row is written in the same transaction.
    func deleteBackup(uuid: String, audit: AuditEvent) async throws -> Bool
}

/// The audit log.
public protocol AuditRepository: Sendable {
    func appendAudit(_ events: [AuditEvent]) async throws
    /// The audit rows `query` asks for.
    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry]
}

extension AuditRepository {
    /// Audit rows in the order written, after the given id.
    public func auditEntries(limit: Int, after: Int64?) async throws -> [AuditEntry] {
        try await auditEntries(AuditQuery(limit: limit, after: after))
    }
}

/// What `storeBackup` did.
public enum BackupStoreOutcome: Sendable, Equatable {
    /// Stored at this time (Unix seconds).
    case stored(at: Int64)
    /// `If-None-Match` matched the stored ETag; nothing was written.
    case notModified
}

/// A stored backup.
public struct StoredBackup: Sendable, Equatable {
    public var blob: Data
    public var info: BackupInfo
}
