/// Store failures a caller can act on (everything else is a database fault).
public enum StoreError: Error, Equatable, Sendable {
    /// A token with this name exists already.
    case duplicateName(String)
    /// A token with this value exists already (active or revoked): a value is never used twice.
    case duplicateTokenValue
    /// No account has this id.
    case unknownAccount(String)
    /// The database was written by a newer Ember: it has migration `found`, this build knows up to `known`.
    case schemaTooNew(found: Int, known: Int)
    /// The database URL is not one Ember can open, or the server did not answer (never holds a password).
    case unsupportedDatabase(String)
    /// A stored value could not be read back.
    case corruptRow(String)
    /// Concurrent writers kept winning the same row (a registration that raced on one UUID through every retry).
    case contended(String)
}

extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .duplicateName(let name): "a token named \(name) exists already"
        case .duplicateTokenValue: "a token with this value exists already (it may be revoked); choose a new value"
        case .unknownAccount(let id): "no account \(id)"
        case .schemaTooNew(let found, let known):
            "the database schema is at migration \(found) but this ember knows only up to \(known): run a newer ember"
        case .unsupportedDatabase(let reason): "cannot open the database: \(reason)"
        case .corruptRow(let what): "a stored \(what) could not be read"
        case .contended(let what): "\(what) kept racing with concurrent writes"
        }
    }
}
