/// The device lifecycle: what a device reported at its last check-in, the actions waiting for it, every key it
/// has had (epoch 0, FireFly's derived key, for every device already registered) and a write-once
/// `decommissioned_at`.
let m0004Lifecycle = Migration(version: 4, name: "lifecycle") { dialect in
    [
        "ALTER TABLE devices ADD COLUMN last_seen_at BIGINT",
        "ALTER TABLE devices ADD COLUMN firmware_version TEXT",
        "ALTER TABLE devices ADD COLUMN config_version BIGINT",
        "ALTER TABLE devices ADD COLUMN config_hash TEXT",
        "ALTER TABLE devices ADD COLUMN reported_state TEXT",
        "ALTER TABLE devices ADD COLUMN uptime_s BIGINT",
        """
        CREATE TABLE device_actions (
            id \(SQLDialectSpecifics.autoIncrementPrimaryKey(dialect)),
            uuid TEXT NOT NULL REFERENCES devices (uuid),
            type TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT NOT NULL,
            config TEXT,
            created_at BIGINT NOT NULL,
            created_by TEXT NOT NULL,
            delivered_at BIGINT,
            completed_at BIGINT,
            detail TEXT
        )
        """,
        "CREATE INDEX device_actions_device ON device_actions (uuid, state)",
        """
        CREATE TABLE device_keys (
            uuid TEXT NOT NULL REFERENCES devices (uuid),
            epoch INTEGER NOT NULL,
            public_key TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            activated_at BIGINT,
            retired_at BIGINT,
            PRIMARY KEY (uuid, epoch)
        )
        """,
        """
        INSERT INTO device_keys (uuid, epoch, public_key, state, created_at, activated_at)
        SELECT uuid, 0, public_key, 'active', registration_date, registration_date FROM devices
        """,
    ] + SQLDialectSpecifics.writeOnceDecommissionTrigger(dialect)
}
