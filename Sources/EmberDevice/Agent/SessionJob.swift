import Synchronization

/// One piece of background work of a boot session (a registration retry, a check after provisioning). It runs as a
/// child task of the session; `cancel()` ends it early and `finished()` waits until it has ended, so a new
/// registration can take over from a retry loop without racing it.
final class SessionJob: Sendable {
    private struct State {
        var started = false
        var cancelled = false
        var finished = false
        var cancelWaiter: CheckedContinuation<Void, Never>?
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let work: @Sendable () async -> Void
    private let state = Mutex(State())

    init(_ work: @escaping @Sendable () async -> Void) {
        self.work = work
    }

    /// Runs the work until it returns, `cancel()` is called or the session's task is cancelled.
    func run() async {
        state.withLock { $0.started = true }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.work() }
            group.addTask { await self.untilCancelled() }
            await group.next()
            group.cancelAll()
        }
        finish()
    }

    /// Cancels the work; it ends at its next suspension point.
    func cancel() {
        let waiter = state.withLock { state in
            state.cancelled = true
            defer { state.cancelWaiter = nil }
            return state.cancelWaiter
        }
        waiter?.resume()
    }

    /// The session ended before the job started: it never will, so it counts as finished.
    func abandon() {
        let never = state.withLock { !$0.started }
        if never { finish() }
    }

    /// Returns once the work has ended (or was abandoned).
    func finished() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if !state.finished { state.finishWaiters.append(continuation) }
                return state.finished
            }
            if done { continuation.resume() }
        }
    }

    private func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.finishWaiters = [] }
            return state.finishWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func untilCancelled() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state in
                    if !state.cancelled && !Task.isCancelled { state.cancelWaiter = continuation }
                    return state.cancelled || Task.isCancelled
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            cancel()
        }
    }
}
