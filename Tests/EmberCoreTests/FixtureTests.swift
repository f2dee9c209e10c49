import EmberTestSupport
import Foundation
import Testing

struct FixtureTests {
    @Test(arguments: Fixtures.copied)
    func committedFixtureExists(path: String) throws {
        let data = try Data(contentsOf: Fixtures.url(path))
        #expect(!data.isEmpty)
    }

    @Test(arguments: Fixtures.copied)
    func committedFixtureEqualsTheSharedOriginalWhenPresent(path: String) throws {
        guard let shared = Fixtures.sharedDirectory() else { return }  // a plain clone: nothing to compare with
        let original = try Data(contentsOf: shared.appendingPathComponent(path))
        let copy = try Data(contentsOf: Fixtures.url(path))
        #expect(copy == original, "Tests/Fixtures/\(path) differs from the shared original: copy it again")
    }
}
