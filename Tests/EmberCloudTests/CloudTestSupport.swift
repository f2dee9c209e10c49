import EmberClient
import EmberCloud
import EmberCore
import EmberFleet
import EmberHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import Testing

@testable import EmberCloud

/// A fresh registry on its own SQLite file, a manual clock, an admin and an operator token.
struct TestRegistry: Sendable {
    let registry: Registry
    let clock: ManualClock
    let adminToken: String
    let operatorToken: String
    var store: any Store { registry.store }

    /// The stored record of a registration key, found by the key itself.
    func keyRecord(_ key: String) async throws -> RegistrationKeyRecord? {
        try await store.registrationKey(registry.keys.sealer.lookup(key))
    }

    static let logger: Logger = {
        var logger = Logger(label: "ember-test")
        logger.logLevel = .critical
        return logger
    }()

    /// Opens a throwaway `database`, migrates it and hands `body` a registry and its router client; closes it after.
    /// Suites take the database as a test argument (`@Test(arguments: TestDatabase.all)`), so a failure names it.
    static func with(
        on database: TestDatabase,
        _ configuration: RegistryConfiguration = RegistryConfiguration(),
        _ body: @Sendable (TestRegistry, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await database.withStore { store in
            let clock = ManualClock()
            let registry = Registry(configuration: configuration, store: store, clock: clock)
            let actor = AuditActor(actor: "test", client: "local")
            let admin = try await registry.tokens.create(name: "admin", role: .admin, by: actor)
            let op = try await registry.tokens.create(name: "operator", role: .operator, by: actor)
            let test = TestRegistry(registry: registry, clock: clock, adminToken: admin, operatorToken: op)
            let app = Application(router: registry.buildRouter(), logger: logger)
            try await app.test(.router) { client in try await body(test, client) }
        }
    }

    var now: DeviceTimestamp { DeviceTimestamp(epochSeconds: clock.now()) }
}

extension TestClientProtocol {
    /// Mints a registration key with `token` and returns it.
    func mintKey(_ token: String) async throws -> String {
        try await execute(uri: "/registration-keys", method: .post, headers: [.authorization: "Bearer \(token)"]) { response in
            #expect(response.status == .created)
            return try JSONDecoder().decode(RegistrationKeyCreated.self, from: Data(buffer: response.body)).key
        }
    }

    /// `POST /devices/register` with a JSON body.
    func register(_ body: Data, key: String?, contentType: String? = "application/json") async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let key { headers[.xRegistrationKey] = key }
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: "/devices/register", method: .post, headers: headers, body: ByteBuffer(data: body))
    }

    /// Registers `device` with `key`.
    func register(_ device: SimulatedDevice, key: String) async throws -> TestResponse {
        try await register(try JSONEncoder().encode(device.registrationBody()), key: key)
    }

    /// A signed `GET /devices/{uuid}/registration`.
    func checkRegistration(_ headers: RequestSigner.Headers, path: String? = nil) async throws -> TestResponse {
        var fields: HTTPFields = [:]
        for (name, value) in headers.fields { fields[HTTPField.Name(name)!] = value }
        return try await execute(uri: path ?? "/devices/\(headers.uuid)/registration", method: .get, headers: fields)
    }

    /// GET with a bearer token.
    func get(_ uri: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension TestResponse {
    /// The `message` of a JSON error body (nil when the body is not one).
    var message: String? {
        try? JSONDecoder().decode(MessageBody.self, from: Data(buffer: body)).message
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: body))
    }
}

extension SimulatedDevice {
    /// A registration body as a mutable JSON object, for tests that break it.
    func registrationJSON() throws -> [String: Any] {
        let data = try JSONEncoder().encode(registrationBody())
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}

extension RegistryConfiguration {
    /// The default configuration with `change` applied, for `TestRegistry.with(_:_:)`.
    static func testing(_ change: (inout RegistryConfiguration) -> Void) -> RegistryConfiguration {
        var configuration = RegistryConfiguration()
        change(&configuration)
        return configuration
    }
}
