/// Group work: the inputs of concurrent callers are handed to `work` together, so a batch costs one statement, one
/// hand-off to the database's thread and (for writes) one commit instead of one per caller. Each caller gets its own
/// output only after its batch finished: nothing is answered before it is durable.
actor Coalescer<Input: Sendable, Output: Sendable> {
    /// Does one batch; returns one output per input, in order.
    typealias Work = @Sendable ([Input]) async throws -> [Output]

    private var pending: [(input: Input, continuation: CheckedContinuation<Output, any Error>)] = []
    private var running = false
    /// Most inputs in one batch (bounds one statement and how long it holds the database).
    let maximumBatch: Int
    let work: Work

    init(maximumBatch: Int = 256, work: @escaping Work) {
        self.maximumBatch = maximumBatch
        self.work = work
    }

    /// `input`'s output, computed in the next batch.
    func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((input, continuation))
            if !running {
                running = true
                Task { await drain() }
            }
        }
    }

    /// Runs batches until none waits; inputs that arrive meanwhile form the next batch.
    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            do {
                let outputs = try await work(batch.map(\.input))
                guard outputs.count == batch.count else { throw StoreError.contended("a batch answered \(outputs.count) of \(batch.count)") }
                for (item, output) in zip(batch, outputs) { item.continuation.resume(returning: output) }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
        running = false
    }
}

/// A seen nonce: the device and the nonce are its key (`expiresAt` and `now` are not part of it).
struct SeenNonce: Hashable, Sendable {
    var device: String
    var nonce: String
    var expiresAt: Int64 = 0
    var now: Int64 = 0
    /// When fresh, the device is recorded as signing v2 from `now` in the same commit.
    var marksSignsV2 = false

    static func == (lhs: SeenNonce, rhs: SeenNonce) -> Bool { lhs.device == rhs.device && lhs.nonce == rhs.nonce }
    func hash(into hasher: inout Hasher) {
        hasher.combine(device)
        hasher.combine(nonce)
    }
}
