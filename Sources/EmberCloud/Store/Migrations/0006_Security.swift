/// What the security review asked of the schema: each reserved attempt has an id and is marked in flight until it
/// is judged (a passed one is deleted, a failed one kept); a device that has signed with v2 is refused v1 from then
/// on; registration keys rest sealed (`key` becomes the lookup, `sealed` the ciphertext: rows from before are
/// converted at start-up, which needs the key-encryption key and so is not SQL), and the registry remembers which
/// key-encryption key sealed them.
let m0006Security = Migration(version: 6, name: "security") { _ in
    [
        "ALTER TABLE registration_failures ADD COLUMN attempt TEXT",
        "ALTER TABLE registration_failures ADD COLUMN in_flight INTEGER",
        "CREATE INDEX registration_failures_attempt ON registration_failures (attempt)",
        "ALTER TABLE devices ADD COLUMN signs_v2_since BIGINT",
        "ALTER TABLE registration_keys ADD COLUMN sealed TEXT",
        "CREATE TABLE registry_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]
}
