import Foundation

/// What a simulated board's folder holds, as the tests look at it.
public enum BoardFolder {
    /// The config partition's files, without the temporary file of an atomic write caught in flight (a running
    /// agent may be writing its event log as the test looks).
    public static func configFiles(_ board: URL) -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: board.appendingPathComponent("config").path)) ?? []
        return Set(names.filter { !$0.contains(".tmp-") })
    }
}
