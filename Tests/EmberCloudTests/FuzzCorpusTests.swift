import EmberCore
import EmberFuzz
import Foundation
import Testing

/// Every committed fuzzing input (`Fuzz/corpus/`) runs through its target without a crash or a violated property,
/// and the seeds are inputs the parsers accept, so the fuzzer starts inside the grammar.
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    @Test(arguments: FuzzTarget.allCases)
    func everyCommittedInputRunsClean(target: FuzzTarget) throws {
        let folder = Self.corpus.appendingPathComponent(target.rawValue)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!files.isEmpty, "a corpus for \(target.rawValue)")
        for file in files { target.run(try Data(contentsOf: folder.appendingPathComponent(file))) }
    }

    @Test func theSeedsAreValidInputs() throws {
        func seed(_ target: String, _ name: String) throws -> Data {
            try Data(contentsOf: Self.corpus.appendingPathComponent(target).appendingPathComponent(name))
        }
        #expect(throws: Never.self) { try WireDecoder.decode(RegistrationRequest.self, from: try seed("registration", "full")).validated() }
        #expect(throws: Never.self) { try WireDecoder.decode(IdentityRequest.self, from: try seed("identity", "full")).validated() }
        #expect(throws: Never.self) { try FFCEContainer.header(of: try seed("ffce", "fuzz-key")) }
        let lines = String(decoding: try seed("signed-headers", "v2"), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(throws: Never.self) {
            try SignedRequest(uuid: lines[0], nonce: lines[1], timestamp: lines[2], signature: lines[3], version: lines[4])
        }
    }
}
