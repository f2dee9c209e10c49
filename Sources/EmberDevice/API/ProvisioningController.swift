import EmberCore
import Hummingbird

/// Field provisioning (lifecycle §7): the state is public, as an access point's setup page needs it before sign-in;
/// starting it needs the visual token.
struct ProvisioningController {
    let agent: DeviceAgent

    func addRoutes(to router: Router<HWRegContext>) {
        router.get("/api/provisioning", use: status)
        router.put("/api/provisioning", use: start)
    }

    @Sendable func status(_ request: Request, context: HWRegContext) async throws -> Response {
        try HWRegController.json(await agent.provisioningStatus())
    }

    /// `202` with the state: the steps run after the reply, and `GET` follows them.
    @Sendable func start(_ request: Request, context: HWRegContext) async throws -> Response {
        try agent.tokens.authorize(request, context)
        let body = try WireDecoder.decode(ProvisioningRequest.self, from: await HWRegController.jsonBody(request, context))
        var response = try HWRegController.json(try await agent.startProvisioning(body))
        response.status = .accepted
        return response
    }
}
