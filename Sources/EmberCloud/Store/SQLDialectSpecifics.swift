/// Every place where the SQL differs between the databases Ember supports.
enum SQLDialectSpecifics {
    /// Column type of an auto-incrementing 64-bit primary key.
    static func autoIncrementPrimaryKey(_ dialect: SQLDialectKind) -> String {
        switch dialect {
        case .sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT"
        }
    }

    /// Triggers that make `registration_date` write-once and device rows undeletable.
    static func deviceProtectionTriggers(_ dialect: SQLDialectKind) -> [String] {
        switch dialect {
        case .sqlite:
            [
                """
                CREATE TRIGGER devices_registration_date_immutable BEFORE UPDATE OF registration_date ON devices
                BEGIN SELECT RAISE(ABORT, 'registration_date is immutable'); END
                """,
                """
                CREATE TRIGGER devices_undeletable BEFORE DELETE ON devices
                BEGIN SELECT RAISE(ABORT, 'device rows cannot be deleted; decommission the device instead'); END
                """,
            ]
        }
    }
}
