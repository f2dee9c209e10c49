/// Field provisioning (lifecycle §7): accounts, user tokens bound to one, the account that owns a device, and
/// single-use claim tokens (stored as their SHA-256, spent by one conditional statement).
let m0009Accounts = Migration(version: 9, name: "accounts") { _ in
    [
        """
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at BIGINT NOT NULL,
            created_by TEXT NOT NULL
        )
        """,
        "ALTER TABLE admin_tokens ADD COLUMN account_id TEXT",
        "ALTER TABLE devices ADD COLUMN owner_account TEXT",
        "ALTER TABLE devices ADD COLUMN claimed_at BIGINT",
        "CREATE INDEX devices_owner ON devices (owner_account, uuid)",
        """
        CREATE TABLE claim_tokens (
            token_hash TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            spent_at BIGINT,
            spent_by TEXT
        )
        """,
        "CREATE INDEX claim_tokens_expiry ON claim_tokens (expires_at)",
    ]
}
