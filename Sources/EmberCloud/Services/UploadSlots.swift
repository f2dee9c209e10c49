import Synchronization

/// Bounds how many backup bodies are being read at once (each may hold 512 KiB): past the bound, an upload is
/// refused with 503 and `Retry-After` instead of waiting in memory.
final class UploadSlots: Sendable {
    let limit: Int
    let metrics: EmberMetrics
    private let inUse = Mutex(0)

    init(limit: Int, metrics: EmberMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    /// Runs `body` in a slot, or throws 503 when every slot is taken.
    func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let taken = inUse.withLock { count -> Int? in
            guard count < limit else { return nil }
            count += 1
            return count
        }
        guard let taken else {
            metrics.backup("busy")
            throw RegistryError.unavailable("Too many backup uploads in progress; retry later", retryAfter: 2)
        }
        metrics.backupUploadsInProgress(taken)
        defer {
            metrics.backupUploadsInProgress(
                inUse.withLock {
                    $0 -= 1
                    return $0
                }
            )
        }
        return try await body()
    }
}
