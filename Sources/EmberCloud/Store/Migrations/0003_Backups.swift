/// Each device's encrypted backup: the FFCE blob (the registry never holds its key), the plaintext's SHA-256
/// ETag, its size and when it was stored. One row per device; an upload replaces it in one statement.
let m0003Backups = Migration(version: 3, name: "backups") { dialect in
    [
        """
        CREATE TABLE backups (
            uuid TEXT PRIMARY KEY REFERENCES devices (uuid),
            blob \(SQLDialectSpecifics.blobType(dialect)) NOT NULL,
            etag TEXT NOT NULL,
            size BIGINT NOT NULL,
            stored_at BIGINT NOT NULL
        )
        """
    ]
}
