import EmberClient
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The security review's finding 7: `GET /openapi.yaml` trapped when only the binary was copied (as into a container
/// image), because the document was a resource bundle beside it.
struct LoneBinaryTests {
    @Test func aCopyOfTheBinaryAloneServesTheOpenAPIDocumentAndKnowsTheCatalog() async throws {
        try await withTemporaryFolder { folder in
            let lone = folder.appendingPathComponent("bin/ember")
            try FileManager.default.createDirectory(at: lone.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: EmberProcess.binary, to: lone)
            #expect(try FileManager.default.contentsOfDirectory(atPath: lone.deletingLastPathComponent().path) == ["ember"])
            // A bundle accessor would still find the build folder's copy here; the binary must not have one at all.
            let bytes = try Data(contentsOf: lone, options: .alwaysMapped)
            #expect(bytes.range(of: Data(".resources".utf8)) == nil, "the binary looks for a resource bundle")

            let server = try await EmberProcess(
                command: ["serve", "--host", "127.0.0.1", "--port", "0", "--database", "sqlite:\(folder.path)/data/ember.sqlite", "--quiet"],
                folder: folder,
                binary: lone
            )
            let document = try await RegistryClient(baseURL: server.baseURL).send(.GET, "/openapi.yaml")
            #expect(document.status == 200)
            #expect(String(decoding: document.body, as: UTF8.self).hasPrefix("openapi: 3.1"))
            #expect(try await server.stop(signal: SIGTERM) == 0)

            let board = try await EmberProcess.run(
                ["device", "init", "--product", "FFC0806-2305", "--dir", folder.appendingPathComponent("board").path],
                binary: lone
            )
            #expect(board.status == 0, "\(board.output)")
        }
    }
}
