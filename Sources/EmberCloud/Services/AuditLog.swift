/// Reading the audit log (`GET /audit`).
struct AuditLog: Sendable {
    let store: any AuditRepository

    /// Rows in the order written, after the given id.
    func entries(limit: Int, after: Int64?) async throws -> [AuditEntry] {
        try await store.auditEntries(limit: limit, after: after)
    }
}
