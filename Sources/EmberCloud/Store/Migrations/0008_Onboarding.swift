/// Zero-touch onboarding (lifecycle §6): the roots whose onboarding certificates the registry trusts, the serials
/// it expects, which device each serial enrolled (one serial, one device: both columns unique), and the device
/// certificate issued for each device's current key.
let m0008Onboarding = Migration(version: 8, name: "onboarding") { _ in
    [
        """
        CREATE TABLE onboarding_roots (
            sha256 TEXT PRIMARY KEY,
            subject TEXT NOT NULL,
            pem TEXT NOT NULL,
            not_after BIGINT NOT NULL,
            added_at BIGINT NOT NULL,
            added_by TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE preregistrations (
            serial TEXT PRIMARY KEY,
            product_hex TEXT,
            region TEXT,
            fleet_id TEXT,
            created_at BIGINT NOT NULL,
            created_by TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE enrollments (
            serial TEXT PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            enrolled_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE device_certificates (
            uuid TEXT PRIMARY KEY,
            epoch INTEGER NOT NULL,
            pem TEXT NOT NULL,
            issued_at BIGINT NOT NULL
        )
        """,
    ]
}
