/// The readiness check: whether the database answers.
struct Health: Sendable {
    let store: any SchemaRepository

    /// Succeeds when the database answers.
    func checkDatabase() async throws {
        try await store.ping()
    }
}
