import EmberClient
import EmberCloud
import EmberCore
import EmberDevice
import EmberHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import Testing

let quietLogger: Logger = {
    var logger = Logger(label: "ember-device-test")
    logger.logLevel = .critical
    return logger
}()

/// A temporary folder removed when `body` ends.
func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-device-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}

/// A real registry on a loopback port, with an admin client.
struct LiveCloud: Sendable {
    let url: String
    let admin: RegistryClient
    let store: any Store

    /// Starts a registry on a throwaway SQLite file for the length of `body`.
    static func with<T: Sendable>(_ body: @Sendable (LiveCloud) async throws -> T) async throws -> T {
        try await withTemporaryFolder { folder in
            let store = SQLStore(
                provider: try await SQLiteProvider.open(
                    path: folder.appendingPathComponent("cloud.sqlite").path,
                    exclusive: true,
                    logger: quietLogger
                )
            )
            let clock = SystemClock()
            try await store.migrate(now: clock.now())
            // A wide signature window: in the full suite this process's SQLite thread pool is shared by dozens of tests,
            // and a request can wait longer than the 10 s default before it is checked. The window itself is tested
            // in EmberCloudTests.
            var configuration = RegistryConfiguration()
            configuration.signatureWindow = 300
            let registry = Registry(configuration: configuration, store: store, clock: clock)
            let token = try await registry.tokens.create(name: "admin", role: .admin, by: AuditActor(actor: "test", client: "local"))
            let app = Application(
                router: registry.buildRouter(logRequests: false),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: quietLogger
            )
            do {
                let result = try await app.test(.live) { client in
                    let url = "http://127.0.0.1:\(try #require(client.port))"
                    return try await body(LiveCloud(url: url, admin: RegistryClient(baseURL: url, token: token), store: store))
                }
                try await store.close()
                return result
            } catch {
                try? await store.close()  // a failing test must not also crash the run on an unclosed connection
                throw error
            }
        }
    }
}

/// A blank simulated board and its agent, booted, with the HW-Reg router's test client.
struct TestDevice: Sendable {
    let agent: DeviceAgent
    let folder: URL
    let clock: ManualDeviceClock
    let client: any TestClientProtocol

    var token: String { agent.tokens.current().token }

    /// Creates a board of `product` in a fresh folder, lets `prepare` change it, boots an agent and runs `body`.
    static func with(
        product: String = "FFC0806-2305",
        cloud: String? = nil,
        waitForClock: Bool = true,
        prepare: (URL) throws -> Void = { _ in },
        configure: (inout AgentConfiguration) -> Void = { _ in },
        _ body: @Sendable (TestDevice) async throws -> Void
    ) async throws {
        try await withTemporaryFolder { folder in
            let board = folder.appendingPathComponent("board")
            try SimulatedBoard.create(product: try ProductCatalog.bundled.product(named: product), in: board)
            try prepare(board)
            var configuration = AgentConfiguration()
            configuration.cloudURL = cloud
            configuration.retryBase = 0.05
            configuration.retryCap = 0.2
            configure(&configuration)
            let clock = ManualDeviceClock()
            let agent = try DeviceAgent(configuration: configuration, clock: clock, logger: quietLogger) {
                try SimulatedBoard.open(board, logger: quietLogger)
            }
            try await agent.boot()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await DeviceAgentService(agent: agent).run() }
                defer { group.cancelAll() }
                if waitForClock { try await eventually { await agent.clockSynchronized } }
                let app = Application(router: HWRegAPI.router(agent: agent), logger: quietLogger)
                try await app.test(.router) { client in
                    try await body(TestDevice(agent: agent, folder: board, clock: clock, client: client))
                }
            }
        }
    }

    /// A request with the current visual token (or `token`, or none when `authorized` is false).
    func request(
        _ method: HTTPRequest.Method,
        _ uri: String,
        authorized: Bool = true,
        token: String? = nil,
        headers: HTTPFields = [:],
        json: String? = nil,
        body: Data? = nil
    ) async throws -> TestResponse {
        var fields = headers
        if authorized { fields[.visualToken] = token ?? self.token }
        if json != nil { fields[.contentType] = "application/json" }
        let bytes = json.map { ByteBuffer(string: $0) } ?? body.map { ByteBuffer(data: $0) }
        return try await client.execute(uri: uri, method: method, headers: fields, body: bytes)
    }

    /// Provisions a fresh identity through the API.
    @discardableResult
    func provision(uuid: String = UUID().uuidString.lowercased()) async throws -> String {
        let response = try await request(
            .post,
            "/api/identity",
            json: #"{"uuid":"\#(uuid)","product_id":"FFC0806-2305","product_hex":"0x08062305"}"#
        )
        #expect(response.status == .created, "\(String(buffer: response.body))")
        return uuid
    }

    /// Provisions and registers with `cloud`.
    @discardableResult
    func register(with cloud: LiveCloud) async throws -> String {
        let uuid = try await provision()
        let key = try await cloud.admin.mintKey().key
        let response = try await request(.post, "/api/registration", headers: [.xRegistrationKey: key])
        #expect(response.status == .noContent, "\(response.message ?? "")")
        return uuid
    }

    /// Waits until the agent's `schedule` is asleep on the manual clock, then moves the clock to its deadline.
    func runSchedule(_ schedule: Schedule) async throws {
        try await eventually { clock.sleeping(on: schedule) > 0 }
        clock.advance(by: clock.timeUntilDue(schedule) ?? 0)
    }

    /// Waits until the agent's `schedule` is asleep again: the round the last `runSchedule` started has ended.
    func scheduleIdle(_ schedule: Schedule) async throws {
        try await eventually { clock.sleeping(on: schedule) > 0 }
    }

    func events() async throws -> [Event] {
        try JSONDecoder().decode([Event].self, from: Data(buffer: try await request(.get, "/api/events", authorized: false).body))
    }
}

/// Waits (up to `timeout` seconds) until `condition` holds; fails the test otherwise.
func eventually(
    timeout: Double = 20,
    _ condition: @Sendable () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
)
    async throws
{
    let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within \(timeout) s", sourceLocation: sourceLocation)
}

extension TestResponse {
    var message: String? { try? JSONDecoder().decode(MessageBody.self, from: Data(buffer: body)).message }
    func json<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(buffer: body)) }
}

/// A `TestDevice` preparation: the board's NTP never answers.
func clockNeverSyncs(_ board: URL) throws {
    try SimulatedBoard.update(board) { $0.faults.clockNeverSyncs = true }
}
