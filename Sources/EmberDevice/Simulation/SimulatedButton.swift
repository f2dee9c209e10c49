import Dispatch
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The simulated board's front-panel button. `ember device button` writes the press (`button.json`: how long it was
/// held) into the board folder and raises SIGUSR1 in the agent's process, as a GPIO interrupt would; the agent
/// reads the press, removes the file and acts on it.
public enum SimulatedButton {
    static let file = "button.json"

    struct Press: Codable {
        var holdSeconds: Double
        enum CodingKeys: String, CodingKey {
            case holdSeconds = "hold_s"
        }
    }

    /// Presses the button of the agent running as `pid` for the board in `folder`; returns once the agent took the
    /// press, false when it did not within `timeout` seconds.
    public static func press(holdSeconds: Double, folder: URL, pid: Int32, timeout: Double = 10) async throws -> Bool {
        let url = folder.appendingPathComponent(file)
        try AtomicFile.write(try JSONEncoder().encode(Press(holdSeconds: holdSeconds)), to: url, durable: false)
        guard kill(pid, SIGUSR1) == 0 else {
            unlink(url.path)
            return false
        }
        let deadline = Date().addingTimeInterval(timeout)
        while FileManager.default.fileExists(atPath: url.path) {
            guard Date() < deadline else {
                unlink(url.path)
                return false
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Delivers this process's SIGUSR1 presses for `folder` to `agent` until the returned source is cancelled.
    public static func watch(folder: URL, agent: DeviceAgent, logger: Logger) -> any DispatchSourceSignal {
        signal(SIGUSR1, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        let url = folder.appendingPathComponent(file)
        source.setEventHandler {
            guard let data = FileManager.default.contents(atPath: url.path), let press = try? JSONDecoder().decode(Press.self, from: data) else {
                unlink(url.path)
                return
            }
            Task {
                do {
                    try await agent.pressButton(holdSeconds: press.holdSeconds)
                } catch {
                    logger.warning("button press refused", metadata: ["ember.reason": "\(APIErrorText.of(error))"])
                }
                unlink(url.path)
            }
        }
        source.resume()
        return source
    }
}
