/// The fleet, region and owner indexes hold only the devices that have one: a device registered at the factory has
/// none, and a full index of `(NULL, uuid)` cost every registration three more random index pages to write (the
/// filters, `= value`, use a partial index all the same).
let m0010PartialIndexes = Migration(version: 10, name: "partial device indexes") { _ in
    [
        "DROP INDEX devices_fleet",
        "DROP INDEX devices_region",
        "DROP INDEX devices_owner",
        "CREATE INDEX devices_fleet ON devices (fleet_id, uuid) WHERE fleet_id IS NOT NULL",
        "CREATE INDEX devices_region ON devices (region, uuid) WHERE region IS NOT NULL",
        "CREATE INDEX devices_owner ON devices (owner_account, uuid) WHERE owner_account IS NOT NULL",
    ]
}
