import ServiceLifecycle

/// The agent's background work as a service of the device server's group: boot sessions with their child tasks
/// (token rotation, clock sync and the registration check, registration retries, the backup schedule), a fresh
/// session after every reboot, everything cancelled and awaited on graceful shutdown.
public struct DeviceAgentService: Service {
    public let agent: DeviceAgent

    public init(agent: DeviceAgent) {
        self.agent = agent
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            do {
                try await agent.run()
            } catch is CancellationError {
                // Shutdown: the sessions ended.
            }
        }
    }
}
