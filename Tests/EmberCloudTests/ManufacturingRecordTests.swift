import EmberCore
import EmberFleet
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import EmberCloud

/// The manufacturing record of lifecycle §5 on both databases: Ember's registration fields, the list's filters and
/// the streamed export.
struct ManufacturingRecordTests {
    /// Registers a device with Ember's fields; returns its UUID.
    static func register(
        _ test: TestRegistry,
        _ client: any TestClientProtocol,
        region: String? = nil,
        fleet: String? = nil,
        test factory: FactoryTestSummary? = nil,
        product: ProductHex = ProductHex(0x0806_2305)
    ) async throws -> String {
        let device = SimulatedDevice(productHex: product)
        var body = try device.registrationBody()
        body.region = region
        body.fleetID = fleet
        body.firmwareVersion = "1.4.0"
        body.factoryTest = factory
        let response = try await client.register(try JSONEncoder().encode(body), key: try await client.mintKey(test.adminToken))
        #expect(response.status == .noContent, "\(response.message ?? "")")
        return DeviceUUID.format(device.uuid)
    }

    static func get(_ client: any TestClientProtocol, _ test: TestRegistry, _ uri: String) async throws -> TestResponse {
        try await client.get(uri, token: test.adminToken)
    }

    @Test(arguments: TestDatabase.all)
    func theRegistryStoresAndShowsEmbersFields(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let factory = FactoryTestSummary(passed: false, ranAt: 1_700_000_000, failed: ["peripherals", "vdd_sdio_fuses"])
            let uuid = try await Self.register(test, client, region: "eu-west", fleet: "line-4", test: factory)
            let record = try await Self.get(client, test, "/devices/\(uuid)").decode(DeviceRecord.self)
            #expect(record.region == "eu-west" && record.fleetID == "line-4" && record.firmwareVersion == "1.4.0" && record.factoryTest == factory)
            let raw = try await Self.get(client, test, "/devices/\(uuid)").decode([String: JSONValue].self)
            #expect(
                raw["factory_test"]
                    == .object([
                        "passed": .bool(false), "ran_at": .number(1_700_000_000),
                        "failed": .array([.string("peripherals"), .string("vdd_sdio_fuses")]),
                    ])
            )
            #expect(raw["region"] == .string("eu-west") && raw["fleet_id"] == .string("line-4"))

            // A FireFly body without them still registers; the fields are null.
            let plain = SimulatedDevice()
            #expect(try await client.register(plain, key: try await client.mintKey(test.adminToken)).status == .noContent)
            let bare = try await Self.get(client, test, "/devices/\(DeviceUUID.format(plain.uuid))").decode([String: JSONValue].self)
            #expect(bare["region"] == .null && bare["factory_test"] == .null && bare["firmware_version"] == .null)
        }
    }

    @Test(arguments: [
        (#""region": "EU""#, "region must be at most 32 of a-z, 0-9 and -"),
        (#""fleet_id": "a/b""#, "fleet_id must be at most 64 of A-Z, a-z, 0-9, '.', '_' and '-'"),
        (#""firmware_version": "\#(String(repeating: "1", count: 129))""#, "firmware_version must be at most 128 characters"),
        (#""factory_test": {"failed": []}"#, "factory_test.passed is required (true or false)"),
        (#""factory_test": {"passed": false, "failed": [""]}"#, "factory_test.failed must hold at most 16 check names of 1 to 64 characters"),
        (#""factory_test": {"passed": true, "ran_at": -1}"#, "factory_test.ran_at must be epoch seconds"),
        (#""factory_test": "passed""#, "factory_test must be an object"),
    ])
    func badEmberFieldsAre400(field: String, message: String) async throws {
        try await TestRegistry.with(on: .sqlite) { test, client in
            var text = String(decoding: try JSONEncoder().encode(SimulatedDevice().registrationBody()), as: UTF8.self)
            text.removeLast()
            text += ", \(field)}"
            let response = try await client.register(Data(text.utf8), key: try await client.mintKey(test.adminToken))
            #expect(response.status == .badRequest)
            #expect(response.message == message)
            #expect(try await test.store.devices(limit: 10, after: nil, filter: DeviceFilter()).isEmpty, "nothing written")
        }
    }

    @Test(arguments: TestDatabase.all)
    func theListFiltersWithKeysetPagination(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            var line4: [String] = []
            for index in 0..<5 {
                line4.append(try await Self.register(test, client, region: index < 3 ? "eu-west" : "us-east", fleet: "line-4"))
            }
            let other = try await Self.register(test, client, region: "eu-west", fleet: "line-5", product: ProductHex(0x0807_2504))
            func uuids(_ query: String) async throws -> [String] {
                let response = try await Self.get(client, test, "/devices?\(query)")
                #expect(response.status == .ok, "\(query): \(response.message ?? "")")
                return try response.decode(DevicePage.self).devices.map(\.uuid)
            }
            #expect(try await uuids("fleet_id=line-4") == line4.sorted())
            #expect(try await uuids("fleet_id=line-4&region=eu-west") == Array(line4.prefix(3)).sorted())
            #expect(try await uuids("product_hex=0x08072504") == [other])
            #expect(try await uuids("q=\(other.prefix(8))") == [other])
            #expect(try await uuids("q=\(other.prefix(8).uppercased())") == [other], "the prefix is case-insensitive")
            #expect(try await uuids("state=decommissioned").isEmpty)

            var seen: [String] = []
            var after: String?
            repeat {
                let page = try await Self.get(client, test, "/devices?fleet_id=line-4&limit=2" + (after.map { "&after=\($0)" } ?? ""))
                    .decode(DevicePage.self)
                seen += page.devices.map(\.uuid)
                after = page.nextAfter
            } while after != nil
            #expect(seen == line4.sorted())

            for (query, message) in [
                ("state=gone", "state must be registered or decommissioned"),
                ("product_hex=0x123", "product_hex must be 0x and 8 hex digits, e.g. 0x08062305"),
                ("fleet_id=a%20b", "fleet_id must be at most 64 of A-Z, a-z, 0-9, '.', '_' and '-'"),
                ("region=EU", "region must be at most 32 of a-z, 0-9 and -"),
                ("q=zz", "q must be the start of a UUID: 1 to 36 hex digits and dashes"),
                ("q=%25", "q must be the start of a UUID: 1 to 36 hex digits and dashes"),
            ] {
                let response = try await Self.get(client, test, "/devices?\(query)")
                #expect(response.status == .badRequest && response.message == message, "\(query)")
                let export = try await Self.get(client, test, "/devices/export?\(query)")
                #expect(export.status == .badRequest && export.message == message, "export \(query)")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func theExportHasEveryRecordWithAHeaderRowFirst(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let factory = FactoryTestSummary(passed: false, ranAt: 1_700_000_000, failed: ["peripherals", "clock"])
            var even: [String] = []
            for index in 0..<12 {
                let uuid = try await Self.register(test, client, region: "eu-west", fleet: index % 2 == 0 ? "even" : "odd", test: factory)
                if index % 2 == 0 { even.append(uuid) }
            }
            let csv = try await Self.get(client, test, "/devices/export?format=csv&fleet_id=even")
            #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = String(buffer: csv.body).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == ManufacturingExport.columns.joined(separator: ","))
            #expect(lines.count == 1 + even.count)
            #expect(lines.dropFirst().map { String($0.prefix(36)) } == even.sorted())
            let row = try #require(lines.dropFirst().first)
            #expect(row.contains(",eu-west,even,1.4.0,false,1700000000,peripherals;clock,0,"), "\(row)")
            #expect(row.contains(#""[{""interface"":""wifi"","#), "JSON columns are quoted, quotes doubled")

            let jsonl = try await Self.get(client, test, "/devices/export?format=jsonl&fleet_id=odd")
            #expect(jsonl.status == .ok && jsonl.headers[.contentType] == "application/x-ndjson")
            let records = try String(buffer: jsonl.body).split(separator: "\n").map {
                try JSONDecoder().decode(DeviceRecord.self, from: Data($0.utf8))
            }
            #expect(records.count == 6 && records.allSatisfy { $0.fleetID == "odd" && $0.factoryTest == factory })
            #expect(try await Self.get(client, test, "/devices/export?format=xml").message == "format must be csv or jsonl")
            #expect(try await client.get("/devices/export", token: nil).status == .unauthorized)

            // Page by page, the same records as in one go.
            var chunks: [String] = []
            try await test.registry.devices.export(format: .csv, filter: DeviceFilter(), pageSize: 5) { chunks.append($0) }
            #expect(chunks.count == 1 + 3, "the header, then three pages of 5, 5 and 2")
            let whole = try await Self.get(client, test, "/devices/export")
            #expect(chunks.joined() == String(buffer: whole.body))
        }
    }
}

/// Length limits count Unicode scalars (as FireFly's Python `len` does), so combining marks cannot hide in one
/// character.
struct LengthLimitTests {
    static let hidden = "A" + String(repeating: "\u{0301}", count: 15_000)

    @Test func registrationFieldsCountScalars() async throws {
        #expect(Self.hidden.count == 1 && Self.hidden.unicodeScalars.count == 15_001)
        try await TestRegistry.with(on: .sqlite) { test, client in
            var body = try SimulatedDevice().registrationBody()
            body.registeringApplication = Self.hidden
            let refused = try await client.register(try JSONEncoder().encode(body), key: try await client.mintKey(test.adminToken))
            #expect(refused.status == .badRequest && refused.message == "registering_application must be at most 128 characters")
            body.registeringApplication = "Hardware Registration and Configuration"
            body.firmwareVersion = Self.hidden
            let version = try await client.register(try JSONEncoder().encode(body), key: try await client.mintKey(test.adminToken))
            #expect(version.message == "firmware_version must be at most 128 characters")
        }
    }

    @Test func tokenNamesCountScalars() async throws {
        try await TestRegistry.with(on: .sqlite) { test, _ in
            await #expect(throws: RegistryError.self) {
                try await test.registry.tokens.create(name: Self.hidden, role: .operator, by: AuditActor(actor: "t", client: "t"))
            }
        }
    }

    @Test func identityAndActionLimitsCountScalars() throws {
        let identity = IdentityRequest(
            uuid: UUID().uuidString.lowercased(),
            productID: "F" + String(repeating: "\u{0301}", count: 40),
            productHex: "0x08062305"
        )
        #expect(throws: WireError("Field product_id is greater than 32 characters, see docs")) { try identity.validated() }
        #expect(throws: WireError("reason must be at most 200 characters")) {
            try ActionRequest(type: "backup-now", reason: Self.hidden).validated()
        }
        #expect(throws: WireError("detail must be at most 500 characters")) {
            try ActionResultRequest(status: "done", detail: Self.hidden).validated()
        }
    }
}

/// A failed admin authentication is audited without the registration key in the path, and with a bounded subject.
struct AuthFailureSubjectTests {
    @Test(arguments: TestDatabase.all)
    func theAuditRowMasksTheKeyAndCapsThePath(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            let key = try await client.mintKey(test.adminToken)
            let wrong: HTTPFields = [.authorization: "Bearer not-a-token-at-all"]
            #expect(try await client.execute(uri: "/registration-keys/\(key)", method: .delete, headers: wrong).status == .unauthorized)
            let long = "/devices/" + String(repeating: "x", count: 5_000)
            #expect(
                try await client.execute(uri: long, method: .get, headers: [.authorization: "Bearer \(String(repeating: "y", count: 20))"]).status
                    == .unauthorized
            )
            let rows = try await test.store.auditEntries(limit: 100, after: nil).filter { $0.action == "auth.failed" }
            let subjects = rows.map(\.subject)
            #expect(subjects.contains("/registration-keys/\(key.prefix(2))****"), "\(subjects)")
            #expect(!subjects.contains { $0.contains(key) })
            #expect(rows.allSatisfy { $0.subject.unicodeScalars.count <= 128 })
        }
    }
}

/// Wrong bearer tokens are limited per client like wrong registration keys.
struct BearerThrottleTests {
    @Test(arguments: TestDatabase.all)
    func wrongTokensPastTheLimitGet429EvenWithTheRightOne(database: TestDatabase) async throws {
        try await TestRegistry.with(on: database) { test, client in
            for _ in 0..<20 {
                #expect(try await client.get("/devices", token: nil).status == .unauthorized, "no token is not an attempt")
            }
            #expect(try await client.get("/devices", token: test.adminToken).status == .ok)
            for attempt in 0..<10 {
                #expect(try await client.get("/devices", token: "guess-\(attempt)-\(UUID().uuidString)").status == .unauthorized)
            }
            let limited = try await client.get("/devices", token: test.adminToken)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
            #expect(limited.message?.hasPrefix("Too many failed token attempts; try again in ") == true)
            #expect(try await client.register(SimulatedDevice(), key: "ABC123").status != .tooManyRequests, "registration keys count apart")
            test.clock.advance(by: 61)
            #expect(try await client.get("/devices", token: test.adminToken).status == .ok, "after the window")
        }
    }
}
