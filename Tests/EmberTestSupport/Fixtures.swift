import Foundation

/// The test data committed under `Tests/Fixtures/`: copies of the design folder's vectors and product catalog,
/// so a clone of this repository alone passes its tests.
public enum Fixtures {
    /// The repository's root: the nearest folder above this file that holds `Package.swift`.
    public static func repositoryRoot(file: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: file)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }

    /// A file under `Tests/Fixtures/`, e.g. `vectors/device-crypto.json`.
    public static func url(_ relativePath: String) -> URL {
        repositoryRoot().appendingPathComponent("Tests/Fixtures").appendingPathComponent(relativePath)
    }

    /// The design folder the fixtures were copied from: `$EMBER_SHARED_DIR`, else `shared/` beside the checkout;
    /// nil when it does not exist (a plain clone).
    public static func sharedDirectory() -> URL? {
        let url =
            ProcessInfo.processInfo.environment["EMBER_SHARED_DIR"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot().deletingLastPathComponent().appendingPathComponent("shared")
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue ? url : nil
    }

    /// Every committed fixture, by its path under both folders.
    public static let copied = ["vectors/device-crypto.json", "data/devices.yaml"]
}
