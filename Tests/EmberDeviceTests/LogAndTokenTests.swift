import EmberDevice
import Foundation
import Testing

/// The event and error logs, and the visual token.
struct LogAndTokenTests {
    @Test func logsAreBoundedPersistedAndCutToTheOLEDWidth() async throws {
        try await withTemporaryFolder { folder in
            let partition = try ConfigPartition(folder: folder)
            let log = EventLog(partition: partition)
            for index in 0..<150 { log.record(.info, "event \(index)", at: Int64(index)) }
            log.record(.notify, "a text much longer than twenty-one characters", at: 150)
            #expect(log.events.count == EventLog.capacity)
            #expect(log.events.first?.text == "event 51")
            #expect(log.events.last == Event(time: 150, level: .notify, text: "a text much longer th"))

            log.record(.error, "Inpt ctl 0x21 offline", at: 151)
            log.record(.error, "Inpt ctl 0x21 offline", at: 152)
            log.record(.error, "Out ctl 0x40 offline", at: 153)
            #expect(log.errors.map(\.text) == ["Inpt ctl 0x21 offline", "Out ctl 0x40 offline"], "unique by text")
            log.resolve("Inpt ctl 0x21 offline")

            let reloaded = EventLog(partition: partition)
            #expect(reloaded.events == log.events)
            #expect(reloaded.errors.map(\.text) == ["Out ctl 0x40 offline"])
            for index in 0..<150 { reloaded.record(.error, "error \(index)", at: Int64(index)) }
            #expect(reloaded.errors.count == EventLog.capacity)
        }
    }

    @Test func damagedLogFilesStartEmpty() async throws {
        try await withTemporaryFolder { folder in
            let partition = try ConfigPartition(folder: folder)
            try partition.write("events.json", Data("{not json".utf8))
            #expect(EventLog(partition: partition).events.isEmpty)
        }
    }

    @Test func tokenRotatesEveryMinuteAndAuthorizationsLastAnHour() {
        let clock = ManualDeviceClock()
        let tokens = VisualTokens(clock: clock)
        let first = tokens.current().token
        #expect(first.count == 6 && first.allSatisfy { VisualTokens.alphabet.contains($0) })
        #expect(tokens.check(first, client: "a") == .accepted)
        #expect(tokens.check(first, client: "a", retain: true) == .accepted)
        clock.advance(by: 59)
        #expect(tokens.current().token == first)
        clock.advance(by: 1)
        #expect(tokens.current().secondsLeft == 60, "a new token was issued at the 60-second mark")
        #expect(tokens.check(first, client: "a") == .accepted, "the retained authorization outlives the displayed token")

        clock.advance(by: 3_540)
        #expect(tokens.check(first, client: "a") == .wrong, "authorizations expire after 60 minutes, fixed")
        #expect(tokens.check(nil, client: "a") == .missing)
        #expect(tokens.check("", client: "a") == .missing)

        let now = tokens.current().token
        #expect(tokens.check(now + "X", client: "b") == .wrong, "whole values are compared, not prefixes")
        #expect(tokens.check(String(now.prefix(5)), client: "b") == .wrong)
        #expect(tokens.check(now.lowercased(), client: "b") == .wrong)
        tokens.reset()
        #expect(tokens.check(first, client: "c") == .wrong, "a reboot forgets authorizations")
    }

    @Test func tokensUseTheWholeAlphabet() {
        let tokens = VisualTokens(clock: ManualDeviceClock(), tokenLifetime: 0)
        var seen = Set<Character>()
        for _ in 0..<2_000 { seen.formUnion(tokens.current().token) }
        #expect(seen == Set(VisualTokens.alphabet))
    }

    @Test func wrongTokensAreRateLimitedPerClient() {
        let clock = ManualDeviceClock()
        let tokens = VisualTokens(clock: clock)
        let right = tokens.current().token
        for _ in 0..<10 { #expect(tokens.check("WRONG1", client: "attacker") == .wrong) }
        guard case .limited(let retryAfter) = tokens.check(right, client: "attacker") else {
            Issue.record("the eleventh try in a minute must be refused")
            return
        }
        #expect((1...60).contains(retryAfter))
        #expect(tokens.check(right, client: "operator") == .accepted, "other clients are not locked out")
        clock.advance(by: 61)
        #expect(tokens.check(tokens.current().token, client: "attacker") == .accepted)
    }
}
