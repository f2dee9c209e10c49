import EmberCore
import Logging
import ServiceLifecycle
import Synchronization

/// What devices reported at their check-ins, held briefly and written in batches: a check-in with no actions
/// is then a read, not a write transaction per device. A crash loses at most the last interval's `last_seen_at`
/// updates, never an action's state (those are written at once).
final class CheckInLedger: Sendable {
    private let pending = Mutex<[String: LastCheckIn]>([:])

    func record(uuid: String, _ checkIn: LastCheckIn) {
        pending.withLock { $0[uuid] = checkIn }
    }

    /// The newest check-in of a device that is not written yet.
    func unwritten(uuid: String) -> LastCheckIn? {
        pending.withLock { $0[uuid] }
    }

    /// Writes what is held; on failure the entries go back (newer ones win).
    func flush(to store: any DeviceRepository) async throws {
        let batch = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        do {
            try await store.recordCheckIns(batch)
        } catch {
            pending.withLock { pending in pending.merge(batch) { newer, _ in newer } }
            throw error
        }
    }
}

/// Writes the ledger every `interval` seconds and once more at shutdown (listed before the HTTP server in the
/// service group, so it stops after the last request).
struct CheckInWriter: Service {
    let ledger: CheckInLedger
    let store: any DeviceRepository
    var interval: Duration = .seconds(1)
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                await flush()
            }
        }
        await flush()
    }

    private func flush() async {
        do {
            try await ledger.flush(to: store)
        } catch {
            logger.warning("could not write check-ins; retrying", metadata: ["ember.error": "\(error)"])
        }
    }
}
