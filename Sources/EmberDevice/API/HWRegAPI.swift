import EmberHTTP
import Hummingbird

/// The device's HTTP API: HW-Reg (device.md) and the Controller's backup, on FireFly's paths and fields.
public enum HWRegAPI {
    /// FireFly's application id (the `Server` header and `/api/version`).
    public static let applicationName = "Hardware-Registration-and-Configuration"
    /// FireFly's display name, sent as `registering_application`.
    public static let applicationDisplayName = "Hardware Registration and Configuration"

    /// The router of an agent's API.
    public static func router(agent: DeviceAgent) -> Router<HWRegContext> {
        let router = Router(context: HWRegContext.self)
        router.addMiddleware {
            FireFlyHeadersMiddleware(
                server: "\(applicationName)/\(agent.configuration.version)",
                allowedOrigins: Set(agent.configuration.allowedOrigins)
            )
            ErrorRenderingMiddleware(tooLargeMessage: "Request body too large (at most 16 KiB)", map: APIError.agent)
        }
        HWRegController(agent: agent).addRoutes(to: router)
        BackupController(agent: agent).addRoutes(to: router)
        ConfigController(agent: agent).addRoutes(to: router)
        ProvisioningController(agent: agent).addRoutes(to: router)
        HWRegUIController(agent: agent).addRoutes(to: router)
        return router
    }
}
