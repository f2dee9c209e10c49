import EmberClient
import EmberCore
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// How tools on the same machine reach a board's running agent: `ember device run` writes `<board>/agent.json`
/// (its process id and URL) once it listens and removes it when it stops; the visual token is read from the OLED
/// mirror, as an operator reads it off the screen.
public struct AgentLink: Codable, Sendable, Equatable {
    public var pid: Int32
    public var url: String

    static let file = "agent.json"

    public init(pid: Int32, url: String) {
        self.pid = pid
        self.url = url
    }

    /// Records that this process serves the board in `folder` at `url`.
    public static func publish(_ link: AgentLink, in folder: URL) throws(HardwareError) {
        do {
            try AtomicFile.write(try JSONEncoder().encode(link), to: folder.appendingPathComponent(file), durable: false)
        } catch let error as HardwareError {
            throw error
        } catch {
            throw .storage("cannot encode agent.json")
        }
    }

    /// Removes the record (the agent stopped).
    public static func withdraw(in folder: URL) {
        unlink(folder.appendingPathComponent(file).path)
    }

    /// The agent serving the board in `folder`, when its process is alive.
    public static func running(in folder: URL) -> AgentLink? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(file)),
            let link = try? JSONDecoder().decode(AgentLink.self, from: data), link.pid > 0, kill(link.pid, 0) == 0
        else { return nil }
        return link
    }

    /// An authorized session with the running agent: `POST /auth` with the token on the OLED, then the call.
    public func call(_ method: HTTPMethod, _ path: String, json: Data? = nil, board folder: URL) async throws -> RegistryClient.Reply {
        let display = (try? String(contentsOf: folder.appendingPathComponent("display.txt"), encoding: .utf8)) ?? ""
        guard let token = display.split(separator: "\n").first(where: { $0.hasPrefix("Token: ") }).map({ String($0.dropFirst(7)) }) else {
            throw HardwareError.storage("no visual token on the board's display")
        }
        let client = RegistryClient(baseURL: url, timeout: .seconds(60))
        let headers = [(FireFlyHeader.visualToken, token)]
        let auth = try await client.send(.POST, "/auth", headers: headers)
        guard auth.status == 204 else { return auth }
        return try await client.send(
            method,
            path,
            headers: headers + (json == nil ? [] : [(FireFlyHeader.contentType, "application/json")]),
            body: json
        )
    }
}
