import SQLKit

/// Group commit for seen nonces: the nonces of concurrent signed requests are recorded in one write transaction, so
/// SQLite pays one fsync (`synchronous=FULL`) per batch instead of one per request. Each caller still learns only
/// after its batch committed whether its nonce was fresh, so nothing is accepted before it is durable.
actor NonceBatcher {
    private struct Pending {
        let device: String
        let nonce: String
        let expiresAt: Int64
        let now: Int64
        let continuation: CheckedContinuation<Bool, any Error>
    }

    let provider: any DatabaseProvider
    /// Most nonces in one transaction (bounds how long the writer is held).
    let maximumBatch: Int
    private var pending: [Pending] = []
    private var flushing = false

    init(provider: any DatabaseProvider, maximumBatch: Int = 256) {
        self.provider = provider
        self.maximumBatch = maximumBatch
    }

    /// Records a nonce until `expiresAt`; false when it is held and unexpired (a replay, also within one batch).
    func record(device: String, nonce: String, expiresAt: Int64, now: Int64) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(device: device, nonce: nonce, expiresAt: expiresAt, now: now, continuation: continuation))
            if !flushing {
                flushing = true
                Task { await flush() }
            }
        }
    }

    /// Writes batches until none waits; requests that arrive meanwhile form the next batch.
    private func flush() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            let rows = batch.map { ($0.device, $0.nonce, $0.expiresAt, $0.now) }
            do {
                let fresh = try await provider.transaction { db in
                    var fresh: [Bool] = []
                    for (device, nonce, expiresAt, now) in rows {
                        fresh.append(try await SQLStore.recordNonce(device: device, nonce: nonce, expiresAt: expiresAt, now: now, on: db))
                    }
                    return fresh
                }
                for (item, isFresh) in zip(batch, fresh) { item.continuation.resume(returning: isFresh) }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
