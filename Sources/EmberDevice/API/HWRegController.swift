import EmberCore
import EmberHTTP
import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat

/// The HW-Reg firmware's routes (device.md): identity, registration, the board's facts, logs, reboot.
struct HWRegController {
    let agent: DeviceAgent

    var tokens: VisualTokens { agent.tokens }

    func addRoutes(to router: Router<HWRegContext>) {
        router.post("/auth", use: auth)
        router.get("/api/network", use: network)
        router.get("/api/network/{interface}", use: networkInterface)
        router.get("/api/identity", use: identity)
        router.post("/api/identity", use: provision)
        router.get("/api/registration", use: registrationStatus)
        router.post("/api/registration", use: register)
        router.get("/api/zero-touch", use: zeroTouch)
        router.get("/api/mcu", use: mcu)
        router.post("/api/mcu/reboot", use: reboot)
        router.get("/api/partitions", use: partitions)
        router.get("/api/peripherals", use: peripherals)
        router.get("/api/checks", use: checks)
        router.get("/api/version", use: version)
        router.get("/api/events", use: events)
        router.get("/api/errors", use: errors)
        router.post("/api/decommission", use: decommission)
        router.post("/api/keys/rotate", use: rotateKey)
    }

    /// Decommissions the device; the body's `uuid` must be this device's. The reply goes out before the session
    /// restarts in the factory state.
    @Sendable func decommission(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        let body = try WireDecoder.decode(DecommissionConfirmation.self, from: await Self.jsonBody(request, context))
        let notified = try await agent.decommissionLocally(confirmation: body.uuid)
        return try Self.json(DecommissionReply(notified: notified))
    }

    @Sendable func rotateKey(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        let epoch = try await agent.rotateKey()
        return try Self.json(KeyRotated(epoch: epoch))
    }

    @Sendable func partitions(_ request: Request, context: HWRegContext) async throws -> Response {
        try Self.json(await agent.board.partitions)
    }

    @Sendable func peripherals(_ request: Request, context: HWRegContext) async throws -> Response {
        try Self.json(await agent.peripherals)
    }

    @Sendable func checks(_ request: Request, context: HWRegContext) async throws -> Response {
        try Self.json(await agent.checks)
    }

    @Sendable func events(_ request: Request, context: HWRegContext) async throws -> Response {
        try Self.json(await agent.log.events)
    }

    @Sendable func errors(_ request: Request, context: HWRegContext) async throws -> Response {
        try Self.json(await agent.log.errors)
    }

    @Sendable func auth(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context, retain: true)
        return Response(status: .noContent)
    }

    @Sendable func network(_ request: Request, context: HWRegContext) async throws -> Response {
        try Self.json(await agent.board.networkInterfaces)
    }

    @Sendable func networkInterface(_ request: Request, context: HWRegContext) async throws -> Response {
        let name = try context.parameters.require("interface")
        guard let entry = await agent.board.networkInterfaces.first(where: { $0.interface == name }) else {
            throw AgentFailure.notFound("Unknown interface \(name); use wifi, wifi_ap, bluetooth or ethernet")
        }
        return try Self.json(entry)
    }

    @Sendable func identity(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        guard let identity = try await agent.identity() else { throw AgentFailure.notFound("Device identity not provisioned") }
        return try Self.json(
            IdentityRequest(
                uuid: DeviceUUID.format(identity.uuid),
                productID: identity.productHex.productID,
                productHex: identity.productHex.description
            )
        )
    }

    @Sendable func provision(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context, retain: true)
        if try await agent.identity() != nil { throw AgentFailure.alreadyProvisioned }
        try await agent.provision(try WireDecoder.decode(IdentityRequest.self, from: Self.jsonBody(request, context)))
        return Response(status: .created)
    }

    @Sendable func registrationStatus(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        switch try await agent.registrationStatus() {
        case .pending: throw AgentFailure.registrationCheckPending
        case .failed(let message, _, _): throw AgentFailure.registrationCheckFailed(message)
        case .known(let registered, let checkedAt, let root):
            return try Self.json(RegistrationStatusBody(registered: registered, checkedAt: checkedAt, cloudAPIRoot: root))
        }
    }

    /// Zero-touch enrollment: off (registration by key), enrolling, enrolled or failed (lifecycle §6).
    @Sendable func zeroTouch(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        return try Self.json(await agent.zeroTouchStatus())
    }

    @Sendable func register(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let target = body.readableBytes > 0 ? try WireDecoder.decode(RegistrationTarget.self, from: Data(buffer: body)) : nil
        try await agent.register(key: request.headers[.xRegistrationKey], url: target?.url, force: target?.force ?? false)
        return Response(status: .noContent)
    }

    @Sendable func mcu(_ request: Request, context: HWRegContext) async throws -> Response {
        let board = await agent.board
        let facts = board.mcu
        let memory = board.memory()
        return try Self.json(
            MCUBody(
                chipModel: facts.chipModel,
                revision: String(facts.revision),
                cpuFreqMHz: facts.cpuFreqMHz,
                chipCores: facts.chipCores,
                sdkVersion: facts.sdkVersion,
                flashChipSize: facts.flashChipSize,
                flashChipSpeed: facts.flashChipSpeedMHz,
                flashChipMode: facts.flashChipMode,
                freeHeap: memory.freeHeap,
                psramSize: facts.psramSize,
                freePSRAM: memory.freePSRAM,
                chipFeatures: facts.chipFeatures,
                bootTime: await agent.bootTimeValue()
            )
        )
    }

    /// Replies first, then the agent's session reboots, as FireFly restarts once the client has its answer.
    @Sendable func reboot(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        await agent.requestReboot()
        return Response(status: .noContent)
    }

    @Sendable func version(_ request: Request, context: HWRegContext) async throws -> Response {
        let configuration = agent.configuration
        return try Self.json(
            VersionBody(
                application: .init(name: HWRegAPI.applicationName, version: await agent.firmwareVersion, commit: configuration.commit),
                productHex: await agent.board.product.description
            )
        )
    }

    /// A JSON request body: `Content-Type: application/json` and not empty, else FireFly's 400.
    static func jsonBody(_ request: Request, _ context: HWRegContext) async throws -> Data {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard request.hasJSONContentType, body.readableBytes > 0 else { throw AgentFailure.invalidInput("Request requires a body") }
        return Data(buffer: body)
    }

    /// A 200 with `value` as FireFly's JSON.
    static func json<T: Encodable>(_ value: T) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value)))
        )
    }
}
