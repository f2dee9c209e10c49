/// Store failures a caller can act on (everything else is a database fault).
public enum StoreError: Error, Equatable, Sendable {
    /// A token with this name exists already.
    case duplicateName(String)
    /// The database was written by a newer Ember: it has migration `found`, this build knows up to `known`.
    case schemaTooNew(found: Int, known: Int)
    /// The database URL is not one Ember can open.
    case unsupportedDatabase(String)
    /// A stored value could not be read back.
    case corruptRow(String)
}

extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .duplicateName(let name): "a token named \(name) exists already"
        case .schemaTooNew(let found, let known):
            "the database schema is at migration \(found) but this ember knows only up to \(known): run a newer ember"
        case .unsupportedDatabase(let url): "unsupported database \(url): use sqlite:PATH (PostgreSQL arrives with the PostgreSQL issue)"
        case .corruptRow(let what): "a stored \(what) could not be read"
        }
    }
}
