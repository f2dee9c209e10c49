import EmberClient
import EmberCloud
import Foundation
import HTTPTypes
import Hummingbird
import Testing
import Yams

/// `docs/openapi.yaml` and the router describe exactly the same routes (the console's HTML pages under `/console`
/// are a web interface over these routes, not part of the API).
struct OpenAPITests {
    @Test(arguments: TestDatabase.all)
    func documentAndRouterListTheSameRoutes(database: TestDatabase) async throws {
        try await database.withStore { store in
            let router = Registry(configuration: RegistryConfiguration(), store: store).buildRouter()
            let served = Set(
                router.routes.filter { !$0.path.description.hasPrefix("/console") }.map { "\($0.method.rawValue.uppercased()) \($0.path)" }
            )
            let document = try #require(try Yams.load(yaml: OpenAPIDocument.text()) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: Any])
            var documented = Set<String>()
            for (path, item) in paths {
                for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "delete", "head", "patch"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            #expect(served.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "openapi.yaml routes the server lacks: \(documented.subtracting(served).sorted())")
        }
    }

    @Test func docsCopyIsTheServedDocument() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml")
        #expect(try String(contentsOf: docs, encoding: .utf8) == OpenAPIDocument.text())
    }
}
