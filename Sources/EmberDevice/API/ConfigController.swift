import EmberCore
import EmberHTTP
import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat

/// The configuration and factory routes (lifecycle §4–§5): config, its history, factory reset, factory test.
struct ConfigController {
    let agent: DeviceAgent

    func addRoutes(to router: Router<HWRegContext>) {
        router.get("/api/config", use: config)
        router.patch("/api/config", use: update)
        router.get("/api/config/history", use: history)
        router.post("/api/factory-reset", use: factoryReset)
        router.post("/api/factory-test", use: factoryTest)
    }

    @Sendable func config(_ request: Request, context: HWRegContext) async throws -> Response {
        try agent.tokens.authorize(request, context)
        return try Self.body(await agent.currentConfig())
    }

    /// A JSON merge patch (`application/merge-patch+json` or `application/json`); 400 with per-field errors.
    @Sendable func update(_ request: Request, context: HWRegContext) async throws -> Response {
        try agent.tokens.authorize(request, context)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" || type == "application/merge-patch+json", body.readableBytes > 0 else {
            throw AgentFailure.invalidInput("Request requires a JSON merge patch body (Content-Type: application/merge-patch+json)")
        }
        let patch = try WireDecoder.decode(JSONValue.self, from: Data(buffer: body))
        try await agent.updateConfig(patch, source: .local, confirmation: request.uri.queryParameters["confirm"].map(String.init))
        return try Self.body(await agent.currentConfig())
    }

    @Sendable func history(_ request: Request, context: HWRegContext) async throws -> Response {
        try agent.tokens.authorize(request, context)
        return try HWRegController.json(await agent.configHistory())
    }

    /// Resets the settings; the body's `uuid` must be this device's. The reply goes out before the reboot.
    @Sendable func factoryReset(_ request: Request, context: HWRegContext) async throws -> Response {
        try agent.tokens.authorize(request, context)
        let body = try WireDecoder.decode(DecommissionConfirmation.self, from: await HWRegController.jsonBody(request, context))
        try await agent.factoryResetLocally(confirmation: body.uuid)
        return Response(status: .noContent)
    }

    @Sendable func factoryTest(_ request: Request, context: HWRegContext) async throws -> Response {
        try agent.tokens.authorize(request, context)
        return try HWRegController.json(await agent.runFactoryTest())
    }

    /// `GET`/`PATCH /api/config`: the redacted configuration and the hash of its file.
    static func body(_ current: (config: DeviceConfig, hash: String)) throws -> Response {
        try HWRegController.json(JSONValue.object(current.config.redacted.merging(["hash": .string(current.hash)]) { $1 }))
    }
}
