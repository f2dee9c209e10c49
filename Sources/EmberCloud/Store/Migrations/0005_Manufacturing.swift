/// The manufacturing record (lifecycle §5): region, fleet and the factory test's result from the registration body
/// (`firmware_version` exists since 0004 and is now also written at registration), with the indexes of the
/// admin list's filters.
let m0005Manufacturing = Migration(version: 5, name: "manufacturing") { _ in
    [
        "ALTER TABLE devices ADD COLUMN region TEXT",
        "ALTER TABLE devices ADD COLUMN fleet_id TEXT",
        "ALTER TABLE devices ADD COLUMN factory_test TEXT",
        "CREATE INDEX devices_fleet ON devices (fleet_id, uuid)",
        "CREATE INDEX devices_region ON devices (region, uuid)",
        "CREATE INDEX devices_product ON devices (product_hex, uuid)",
    ]
}
