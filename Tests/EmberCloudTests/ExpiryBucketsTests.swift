import Foundation
import Logging
import Testing

@testable import EmberCloud

/// The time buckets behind the in-memory guards, and the sweeper that clears them.
struct ExpiryBucketsTests {
    @Test func sweepRemovesExactlyTheExpiredKeys() {
        var buckets = ExpiryBuckets<Int>(granularity: 10)
        for key in 0..<100 { buckets.insert(key, expiresAt: 1_000 + Int64(key)) }
        #expect(buckets.count == 100)
        let expired = buckets.sweep(now: 1_025)
        #expect(Set(expired) == Set(0..<25), "expiry < now leaves; the bucket holding 1025 is only partly due")
        #expect(buckets.count == 75)
        #expect(buckets.expiry(of: 24) == nil && buckets.expiry(of: 25) == 1_025)
        #expect(buckets.sweep(now: 1_025).isEmpty, "nothing more is due")
        #expect(buckets.sweep(now: 2_000).count == 75)
        #expect(buckets.count == 0)
    }

    @Test func aReinsertedKeyKeepsItsLaterExpiry() {
        var buckets = ExpiryBuckets<String>()
        buckets.insert("client", expiresAt: 100)
        buckets.insert("client", expiresAt: 200)
        #expect(buckets.sweep(now: 150).isEmpty, "the early bucket no longer owns the key")
        #expect(buckets.expiry(of: "client") == 200)
        #expect(buckets.sweep(now: 201) == ["client"])
    }

    @Test func theSweeperClearsTheInMemoryLimiter() async {
        let limiter = FailureLimiter(limit: 3, window: 60)
        let clock = ManualClock(start: 1_000)
        for index in 0..<50 {
            await ServiceTests.fail(limiter, client: "c\(index)", now: 1_000)
        }
        let sweeper = GuardSweeper(guards: [limiter], clock: clock, logger: Logger(label: "test"))
        await sweeper.sweepOnce()
        #expect(await limiter.trackedClients == 50)
        clock.advance(by: 11)
        await sweeper.sweepOnce()
        #expect(await limiter.trackedClients == 50, "failures last the 60 s window")
        clock.advance(by: 50)
        await sweeper.sweepOnce()
        #expect(await limiter.trackedClients == 0)
    }
}
