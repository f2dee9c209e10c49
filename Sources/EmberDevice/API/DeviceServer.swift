import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// `ember device run`: boots the board, then serves the HTTP API while the agent's service runs its sessions,
/// until SIGTERM/SIGINT.
public enum DeviceServer {
    /// The HTTP application of an agent; `onRunning` receives the bound port (useful with port 0).
    public static func makeApplication(
        agent: DeviceAgent,
        host: String,
        port: Int,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: HWRegAPI.router(agent: agent),
            server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(agent.configuration.idleTimeout * 1_000)))),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                await agent.serving(at: "\(host):\(bound)")
                await onRunning(bound)
            },
            logger: logger
        )
    }

    /// Boots the agent's board and serves until a shutdown signal; a board that cannot be reopened at a reboot
    /// ends the group with its error.
    public static func run(
        agent: DeviceAgent,
        host: String,
        port: Int,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await agent.boot()
        let app = makeApplication(agent: agent, host: host, port: port, logger: logger) { bound in
            await onListening(bound)
            logger.notice("Ember device agent listening on http://\(host):\(bound)")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: DeviceAgentService(agent: agent)), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.notice("Ember device agent stopped")
    }
}
