/// Tokens, registration keys, devices (with their protective triggers) and the audit log.
let m0001Initial = Migration(version: 1, name: "initial") { dialect in
    [
        """
        CREATE TABLE admin_tokens (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )
        """,
        """
        CREATE TABLE registration_keys (
            key TEXT PRIMARY KEY,
            created_by TEXT NOT NULL,
            generated_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            spent_at BIGINT,
            spent_by TEXT,
            revoked_at BIGINT
        )
        """,
        "CREATE INDEX registration_keys_created_by ON registration_keys (created_by, generated_at)",
        """
        CREATE TABLE devices (
            uuid TEXT PRIMARY KEY,
            product_id TEXT NOT NULL,
            product_hex TEXT NOT NULL,
            device_class TEXT NOT NULL,
            public_key TEXT NOT NULL,
            registering_application TEXT NOT NULL,
            registering_version TEXT NOT NULL,
            mcu TEXT NOT NULL,
            network TEXT NOT NULL,
            partitions TEXT NOT NULL,
            registration_date BIGINT NOT NULL,
            registered_by TEXT NOT NULL,
            registration_key TEXT NOT NULL,
            decommissioned_at BIGINT
        )
        """,
        """
        CREATE TABLE audit_log (
            id \(SQLDialectSpecifics.autoIncrementPrimaryKey(dialect)),
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            client TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT NOT NULL
        )
        """,
    ] + SQLDialectSpecifics.deviceProtectionTriggers(dialect)
}
