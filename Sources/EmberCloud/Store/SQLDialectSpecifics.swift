import SQLKit

/// Every place where the SQL differs between the databases Ember supports.
enum SQLDialectSpecifics {
    /// Whether the live nonces are decided in the store's memory against a log (migration 11): on SQLite, which one
    /// server owns; PostgreSQL's instances share the `(device, nonce)` key.
    static func noncesInMemory(_ dialect: SQLDialectKind) -> Bool { dialect == .sqlite }

    /// Column type of an auto-incrementing 64-bit primary key.
    static func autoIncrementPrimaryKey(_ dialect: SQLDialectKind) -> String {
        switch dialect {
        case .sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT"
        case .postgres: "BIGSERIAL PRIMARY KEY"
        }
    }

    /// The statement that makes one migration transaction wait for any other instance's: a transaction-scoped
    /// advisory lock on PostgreSQL; nil on SQLite, whose transactions already run one at a time.
    static func migrationLock(_ dialect: SQLDialectKind) -> String? {
        switch dialect {
        case .sqlite: nil
        case .postgres: "SELECT pg_advisory_xact_lock(\(migrationLockKey))"
        }
    }

    /// The statement that takes a transaction-scoped lock on a text key: PostgreSQL's advisory lock on the key's
    /// 64-bit hash; nil on SQLite, whose write transactions already run one at a time.
    static func keyLock(_ dialect: SQLDialectKind, key: String) -> SQLQueryString? {
        switch dialect {
        case .sqlite: nil
        case .postgres: "SELECT pg_advisory_xact_lock(hashtextextended(\(bind: key), 0))"
        }
    }

    /// Locks every key of `keys` until the transaction ends, in one statement and one order (the sorted subquery's,
    /// by the lock's hash) on every instance, so two batches that share keys wait for each other instead of
    /// deadlocking.
    static func keyLocks(_ dialect: SQLDialectKind, keys: [String]) -> SQLQueryString? {
        switch dialect {
        case .sqlite: nil
        case .postgres:
            """
            SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(c, 0) AS k
            FROM unnest(ARRAY[\(binds: keys)]::text[]) AS c ORDER BY k) AS locks
            """
        }
    }

    /// The advisory-lock key of migrations ("EMBERMIG" in ASCII).
    static let migrationLockKey: Int64 = 0x454D_4245_524D_4947

    /// Column type of binary data.
    static func blobType(_ dialect: SQLDialectKind) -> String {
        switch dialect {
        case .sqlite: "BLOB"
        case .postgres: "BYTEA"
        }
    }

    /// `TABLE`, or `UNLOGGED TABLE` where the database has them (for short-lived shared state).
    static func unloggedTable(_ dialect: SQLDialectKind) -> String {
        switch dialect {
        case .sqlite: "TABLE"
        case .postgres: "UNLOGGED TABLE"
        }
    }

    /// Triggers that make `registration_date` write-once and device rows undeletable.
    static func deviceProtectionTriggers(_ dialect: SQLDialectKind) -> [String] {
        switch dialect {
        case .sqlite:
            [
                """
                CREATE TRIGGER devices_registration_date_immutable BEFORE UPDATE OF registration_date ON devices
                BEGIN SELECT RAISE(ABORT, 'registration_date is immutable'); END
                """,
                """
                CREATE TRIGGER devices_undeletable BEFORE DELETE ON devices
                BEGIN SELECT RAISE(ABORT, 'device rows cannot be deleted; decommission the device instead'); END
                """,
            ]
        case .postgres:
            [
                """
                CREATE FUNCTION ember_refuse_device_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$
                """,
                """
                CREATE TRIGGER devices_registration_date_immutable BEFORE UPDATE OF registration_date ON devices
                FOR EACH ROW EXECUTE FUNCTION ember_refuse_device_change('registration_date is immutable')
                """,
                """
                CREATE TRIGGER devices_undeletable BEFORE DELETE ON devices
                FOR EACH ROW EXECUTE FUNCTION ember_refuse_device_change('device rows cannot be deleted; decommission the device instead')
                """,
            ]
        }
    }

    /// A trigger that refuses to change `decommissioned_at` once it is set.
    static func writeOnceDecommissionTrigger(_ dialect: SQLDialectKind) -> [String] {
        switch dialect {
        case .sqlite:
            [
                """
                CREATE TRIGGER devices_decommissioned_at_write_once BEFORE UPDATE OF decommissioned_at ON devices
                WHEN OLD.decommissioned_at IS NOT NULL AND NEW.decommissioned_at IS NOT OLD.decommissioned_at
                BEGIN SELECT RAISE(ABORT, 'decommissioned_at is write-once'); END
                """
            ]
        case .postgres:
            [
                """
                CREATE TRIGGER devices_decommissioned_at_write_once BEFORE UPDATE OF decommissioned_at ON devices
                FOR EACH ROW WHEN (OLD.decommissioned_at IS NOT NULL AND NEW.decommissioned_at IS DISTINCT FROM OLD.decommissioned_at)
                EXECUTE FUNCTION ember_refuse_device_change('decommissioned_at is write-once')
                """
            ]
        }
    }
}
