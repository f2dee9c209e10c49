/// On SQLite, seen nonces become a log in insertion order, decided against the live ones the server holds in memory
/// (`LiveNonces`): keyed by `(device, nonce)`, every nonce of a batch cost its own random index page in the commit.
/// PostgreSQL keeps `PRIMARY KEY (device, nonce)`, which is what makes a nonce unique across its instances.
let m0011NonceLog = Migration(version: 11, name: "seen nonces as a log") { dialect in
    guard SQLDialectSpecifics.noncesInMemory(dialect) else { return [] }
    return [
        "CREATE TABLE seen_nonce_log (device TEXT NOT NULL, nonce TEXT NOT NULL, expires_at BIGINT NOT NULL)",
        "INSERT INTO seen_nonce_log SELECT device, nonce, expires_at FROM seen_nonces",
        "DROP TABLE seen_nonces",
        "ALTER TABLE seen_nonce_log RENAME TO seen_nonces",
        "CREATE INDEX seen_nonces_expiry ON seen_nonces (expires_at)",
    ]
}
