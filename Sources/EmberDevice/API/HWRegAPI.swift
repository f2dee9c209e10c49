import EmberCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The request context of the HW-Reg API: Hummingbird's storage and the client's address.
public struct HWRegContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connecting peer; `unknown` in router tests.
    public var clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// FireFly's JSON handler limit.
    public var maxUploadSize: Int { 16 * 1024 }
}

/// The HW-Reg HTTP API of device.md, on FireFly's paths and fields.
public enum HWRegAPI {
    /// FireFly's application id (the `Server` header and `/api/version`).
    public static let applicationName = "Hardware-Registration-and-Configuration"
    /// FireFly's display name, sent as `registering_application`.
    public static let applicationDisplayName = "Hardware Registration and Configuration"

    /// The router of an agent's API.
    public static func router(agent: DeviceAgent) -> Router<HWRegContext> {
        let router = Router(context: HWRegContext.self)
        router.add(middleware: FireFlyHeadersMiddleware(server: "\(applicationName)/\(agent.configuration.version)"))
        let tokens = agent.tokens

        router.post("/auth") { request, context -> Response in
            try authorize(request, context, tokens, retain: true)
            return Response(status: .noContent)
        }

        router.get("/api/network") { _, _ in
            try json(await network(agent))
        }
        router.get("/api/network/{interface}") { _, context -> Response in
            let name = try context.parameters.require("interface")
            guard let entry = await network(agent).first(where: { $0.interface == name }) else {
                throw AgentError(404, "Unknown interface \(name); use wifi, wifi_ap, bluetooth or ethernet")
            }
            return try json(entry)
        }

        router.get("/api/identity") { request, context -> Response in
            try authorize(request, context, tokens)
            guard let identity = try await agent.identity() else { throw AgentError(404, "Device identity not provisioned") }
            return try json(
                IdentityRequest(
                    uuid: DeviceUUID.format(identity.uuid), productID: identity.productHex.productID,
                    productHex: identity.productHex.description))
        }
        router.post("/api/identity") { request, context -> Response in
            try authorize(request, context, tokens, retain: true)
            if try await agent.identity() != nil { throw AgentError(409, HardwareError.alreadyProvisioned.description) }
            let body = try await jsonBody(request, context)
            try await agent.provision(try WireDecoder.decode(IdentityRequest.self, from: body))
            return Response(status: .created)
        }

        router.get("/api/registration") { request, context -> Response in
            try authorize(request, context, tokens)
            switch try await agent.registrationStatus() {
            case .pending:
                throw AgentError(503, "Registration check pending")
            case .failed(let message, _, _):
                throw AgentError(502, message)
            case .known(let registered, let checkedAt, let root):
                return try json(RegistrationStatusBody(registered: registered, checkedAt: checkedAt, cloudAPIRoot: root))
            }
        }
        router.post("/api/registration") { request, context -> Response in
            try authorize(request, context, tokens)
            var url: String?
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            if body.readableBytes > 0 {
                url = try WireDecoder.decode(RegistrationTarget.self, from: Data(buffer: body)).url
            }
            try await agent.register(key: request.headers[HTTPField.Name("X-Registration-Key")!], url: url)
            return Response(status: .noContent)
        }

        router.get("/api/mcu") { _, _ in
            try json(await mcu(agent))
        }
        router.post("/api/mcu/reboot") { request, context -> Response in
            try authorize(request, context, tokens)
            // Reply first, then reboot, as FireFly restarts once the client has its answer.
            Task { try? await agent.reboot() }
            return Response(status: .noContent)
        }

        router.get("/api/partitions") { _, _ in try json(await agent.board.partitions) }
        router.get("/api/peripherals") { _, _ in try json(await agent.peripherals) }
        router.get("/api/checks") { _, _ in try json(await agent.checks) }
        router.get("/api/version") { _, _ in
            try json(
                VersionBody(
                    application: .init(name: applicationName, version: agent.configuration.version, commit: agent.configuration.commit),
                    productHex: await agent.board.product.description))
        }
        router.get("/api/events") { _, _ in try json(await agent.log.events) }
        router.get("/api/errors") { _, _ in try json(await agent.log.errors) }
        addBackupRoutes(to: router, agent: agent)
        return router
    }

    /// The Controller's `/backup` (the local file) and `/api/cloud-backup` (its encrypted cloud copy).
    static func addBackupRoutes(to router: Router<HWRegContext>, agent: DeviceAgent) {
        let tokens = agent.tokens
        router.head("/backup") { request, context -> Response in
            try authorize(request, context, tokens)
            guard let (_, etag) = try await agent.localBackup() else { throw AgentError(404, "No /backup.json on this device") }
            return Response(status: .ok, headers: [.contentType: "application/json", .eTag: BackupETag.quoted(etag)])
        }
        router.get("/backup") { request, context -> Response in
            try authorize(request, context, tokens)
            guard let (data, etag) = try await agent.localBackup() else { throw AgentError(404, "No /backup.json on this device") }
            return backupResponse(data, etag: etag)
        }
        router.put("/backup") { request, context -> Response in
            try authorize(request, context, tokens)
            try backupLengthFits(request)
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: BackupLimits.maxPlaintext)
            } catch is NIOTooManyBytesError {
                throw AgentError(413, "Backup exceeds the 512 KiB limit")
            }
            try await agent.putLocalBackup(Data(buffer: body))
            return Response(status: .noContent)
        }
        router.delete("/backup") { request, context -> Response in
            try authorize(request, context, tokens)
            guard try await agent.deleteLocalBackup() else { throw AgentError(404, "No /backup.json on this device") }
            return Response(status: .noContent)
        }

        router.post("/api/cloud-backup") { request, context -> Response in
            try authorize(request, context, tokens)
            return try json(CloudStatusBody(status: try await agent.pushBackup()))
        }
        router.get("/api/cloud-backup") { request, context -> Response in
            try authorize(request, context, tokens)
            let (data, etag) = try await agent.retrieveBackup()
            return backupResponse(data, etag: etag)
        }
        router.delete("/api/cloud-backup") { request, context -> Response in
            try authorize(request, context, tokens)
            try await agent.deleteCloudBackup()
            return Response(status: .noContent)
        }
    }

    static func backupLengthFits(_ request: Request) throws {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > BackupLimits.maxPlaintext {
            throw AgentError(413, "Backup exceeds the 512 KiB limit (\(length) bytes)")
        }
    }

    static func backupResponse(_ data: Data, etag: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .eTag: BackupETag.quoted(etag)],
            body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    // MARK: Helpers

    static func authorize(_ request: Request, _ context: HWRegContext, _ tokens: VisualTokens, retain: Bool = false) throws {
        switch tokens.check(request.headers[HTTPField.Name("visual-token")!], client: context.clientAddress, retain: retain) {
        case .accepted: return
        case .missing: throw AgentError(401, "Missing visual-token header: send the token shown on the device's display")
        case .wrong: throw AgentError(401, "Wrong or expired visual token: send the token shown on the device's display now")
        case .limited(let retryAfter):
            throw AgentError(429, "Too many wrong visual tokens; try again in \(retryAfter) s", retryAfter: retryAfter)
        }
    }

    /// A JSON request body: `Content-Type: application/json` and not empty, else FireFly's 400.
    static func jsonBody(_ request: Request, _ context: HWRegContext) async throws -> Data {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard type == "application/json", body.readableBytes > 0 else { throw AgentError(400, "Request requires a body") }
        return Data(buffer: body)
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }

    static func network(_ agent: DeviceAgent) async -> [NetworkInterface] {
        await agent.board.networkInterfaces
    }

    static func mcu(_ agent: DeviceAgent) async -> MCUBody {
        let facts = await agent.board.mcu
        return MCUBody(
            chipModel: facts.chipModel, revision: String(facts.revision), cpuFreqMHz: facts.cpuFreqMHz, chipCores: facts.chipCores,
            sdkVersion: facts.sdkVersion, flashChipSize: facts.flashChipSize, flashChipSpeed: facts.flashChipSpeedMHz,
            flashChipMode: facts.flashChipMode, freeHeap: 180_000 + Int.random(in: 0..<4_096), psramSize: facts.psramSize,
            freePSRAM: facts.psramSize - 1_310_720 + Int.random(in: 0..<4_096), chipFeatures: facts.chipFeatures,
            bootTime: await agent.bootTimeValue())
    }
}

/// `200` of `POST /api/cloud-backup`: the cloud's status.
struct CloudStatusBody: Encodable {
    var status: Int
}

/// An error body; `status` is the cloud's, for errors about a cloud answer.
struct ErrorBody: Encodable {
    var message: String
    var status: Int?
}

/// The optional body of `POST /api/registration`.
struct RegistrationTarget: Decodable {
    var url: String?
}

/// `GET /api/registration`.
struct RegistrationStatusBody: Encodable {
    var registered: Bool
    var checkedAt: Int64
    var cloudAPIRoot: String
    enum CodingKeys: String, CodingKey { case registered, checkedAt = "checked_at", cloudAPIRoot = "cloud_api_root" }
}

/// `GET /api/version`; `ui` is null: Ember serves no separate UI partition.
struct VersionBody: Encodable {
    struct Application: Encodable {
        var name: String
        var version: String
        var commit: String
    }

    var application: Application
    var productHex: String

    enum CodingKeys: String, CodingKey { case application, productHex = "product_hex", ui }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(application, forKey: .application)
        try container.encode(productHex, forKey: .productHex)
        try container.encodeNil(forKey: .ui)
    }
}

/// `GET /api/mcu`, FireFly's fields (`revision` is a string here).
struct MCUBody: Encodable {
    var chipModel: String
    var revision: String
    var cpuFreqMHz: Int
    var chipCores: Int
    var sdkVersion: String
    var flashChipSize: Int
    var flashChipSpeed: Int
    var flashChipMode: String
    var freeHeap: Int
    var psramSize: Int
    var freePSRAM: Int
    var chipFeatures: [String]
    var bootTime: Int64

    enum CodingKeys: String, CodingKey {
        case chipModel = "chip_model", revision, cpuFreqMHz = "cpu_freq_mhz", chipCores = "chip_cores", sdkVersion = "sdk_version"
        case flashChipSize = "flash_chip_size", flashChipSpeed = "flash_chip_speed", flashChipMode = "flash_chip_mode"
        case freeHeap = "free_heap", psramSize = "psram_size", freePSRAM = "free_psram", chipFeatures = "chip_features"
        case bootTime = "boot_time"
    }
}

/// FireFly's headers on every response, OPTIONS preflights, and every error as `{"message": …}`.
struct FireFlyHeadersMiddleware: RouterMiddleware {
    typealias Context = HWRegContext
    let server: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if request.method == .options {
            response = Response(status: .ok)
        } else {
            do {
                response = try await next(request, context)
            } catch let error as AgentError {
                response = try Self.message(error.message, status: error.status, retryAfter: error.retryAfter, cloudStatus: error.cloudStatus)
            } catch let error as WireError {
                response = try Self.message(error.message, status: 400)
            } catch is NIOTooManyBytesError {
                response = try Self.message("Request body too large (at most 16 KiB)", status: 413)
            } catch let error as HTTPError {
                let text =
                    switch error.status {
                    case .notFound: "Not found"
                    case .methodNotAllowed: "Method not allowed"
                    case .contentTooLarge: "Request body too large (at most 16 KiB)"
                    default: error.body ?? error.status.reasonPhrase
                    }
                response = try Self.message(text, status: Int(error.status.code))
            } catch {
                context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
                response = try Self.message("Internal error", status: 500)
            }
        }
        response.headers[HTTPField.Name("Access-Control-Allow-Origin")!] = "*"
        response.headers[HTTPField.Name("Access-Control-Allow-Headers")!] = "visual-token, Content-Type, X-Registration-Key, If-None-Match"
        response.headers[HTTPField.Name("Access-Control-Allow-Methods")!] = "GET, HEAD, POST, PUT, OPTIONS, DELETE"
        response.headers[.server] = server
        return response
    }

    static func message(_ text: String, status: Int, retryAfter: Int? = nil, cloudStatus: Int? = nil) throws -> Response {
        var response = try HWRegAPI.json(ErrorBody(message: text, status: cloudStatus), status: HTTPResponse.Status(code: status))
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
