/// The admin console's sign-ins: a session is found by the SHA-256 of its cookie, belongs to one token (signing out,
/// or revoking the token, ends it) and carries its form token against cross-site requests.
let m0007Console = Migration(version: 7, name: "console") { _ in
    [
        """
        CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            token_name TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            revoked_at BIGINT
        )
        """,
        "CREATE INDEX console_sessions_expiry ON console_sessions (expires_at)",
        "CREATE INDEX audit_log_action ON audit_log (action, id)",
    ]
}
