/// What the security review asked of the schema: each reserved failed attempt has an id (so a passed attempt is
/// un-counted), and a device that has signed with v2 is refused v1 from then on.
let m0006Security = Migration(version: 6, name: "security") { _ in
    [
        "ALTER TABLE registration_failures ADD COLUMN attempt TEXT",
        "CREATE INDEX registration_failures_attempt ON registration_failures (attempt)",
        "ALTER TABLE devices ADD COLUMN signs_v2_since BIGINT",
    ]
}
