import EmberCore

/// Reading the audit log (`GET /audit` and the console).
struct AuditLog: Sendable {
    let store: any AuditRepository

    /// The rows `query` asks for.
    func entries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await store.auditEntries(query)
    }
}
