/// Nonces and failed key attempts shared by every instance on one database (unlogged on PostgreSQL: losing them in
/// a database crash only reopens a window of seconds).
let m0002SharedGuards = Migration(version: 2, name: "shared guards") { dialect in
    [
        """
        CREATE \(SQLDialectSpecifics.unloggedTable(dialect)) seen_nonces (
            device TEXT NOT NULL,
            nonce TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (device, nonce)
        )
        """,
        "CREATE INDEX seen_nonces_expiry ON seen_nonces (expires_at)",
        """
        CREATE \(SQLDialectSpecifics.unloggedTable(dialect)) registration_failures (
            client TEXT NOT NULL,
            at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX registration_failures_client ON registration_failures (client, at)",
    ]
}
