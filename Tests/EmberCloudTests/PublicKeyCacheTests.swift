import EmberCore
import EmberFleet
import Testing

@testable import EmberCloud

/// Parsed public keys are reused while the stored key is unchanged and parsed again when it changes.
struct PublicKeyCacheTests {
    @Test func aChangedKeyIsParsedAgainAndGarbageIsNoKey() throws {
        let cache = PublicKeyCache(capacity: 2)
        let first = try SimulatedDevice().master.publicKey()
        let second = try SimulatedDevice().master.publicKey()
        #expect(cache.key(for: "d", encoded: first.base64) == first)
        #expect(cache.key(for: "d", encoded: first.base64) == first)
        #expect(cache.key(for: "d", encoded: second.base64) == second, "a rotated key replaces the cached one")
        #expect(cache.key(for: "e", encoded: "not a key") == nil)
        #expect(cache.count == 1)
        _ = cache.key(for: "e", encoded: first.base64)
        _ = cache.key(for: "f", encoded: second.base64)
        #expect(cache.count <= 2, "bounded")
    }
}
