import EmberPKI
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// `ember serve`: open the database, migrate, bootstrap the first token, serve until SIGTERM/SIGINT, close cleanly.
public enum RegistryServer {
    /// Opens the store a database URL names: `sqlite:PATH` or `postgres://…`. A server opens SQLite `exclusive`ly
    /// (one server per file); the admin commands do not.
    public static func openStore(_ url: String, exclusive: Bool = false, logger: Logger) async throws -> any Store {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw StoreError.unsupportedDatabase(url) }
            return SQLStore(provider: try await SQLiteProvider.open(path: path, exclusive: exclusive, logger: logger))
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return SQLStore(provider: try await PostgresProvider.open(url: url, logger: logger))
        }
        throw StoreError.unsupportedDatabase("use sqlite:PATH or postgres://user:password@host:5432/database")
    }

    /// The HTTP application of a registry; `onRunning` receives the bound port (useful with port 0).
    public static func makeApplication(
        registry: Registry,
        configuration: RegistryConfiguration,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> some ApplicationProtocol {
        let http = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(configuration.idleTimeout)))
        return Application(
            router: registry.buildRouter(logRequests: configuration.logRequests),
            server: try configuration.tls.map { try .tls(http, tlsConfiguration: try serverTLS($0)) } ?? http,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Ember"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }

    /// The server side of TLS from the PEM files; a file that cannot be read or parsed names itself.
    static func serverTLS(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain) } catch {
            throw PKIError("--tls-cert \(files.certificateChain): not a readable PEM certificate chain")
        }
        do { key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem) } catch {
            throw PKIError("--tls-key \(files.privateKey): not a readable PEM private key")
        }
        guard !chain.isEmpty else { throw PKIError("--tls-cert \(files.certificateChain) holds no certificate") }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// Runs the registry until a shutdown signal; in-flight requests finish and the database closes before it returns.
    public static func run(configuration: RegistryConfiguration, logger: Logger) async throws {
        let store = try await openStore(configuration.database, exclusive: true, logger: logger)
        do {
            let clock = SystemClock()
            try await store.migrate(now: clock.now())
            let registry = Registry(configuration: configuration, store: store, clock: clock)
            let sealed = try await registry.keys.prepare()
            if sealed > 0 { logger.notice("sealed \(sealed) registration keys stored in plaintext by an older Ember") }
            if let token = configuration.bootstrapToken, try await registry.tokens.bootstrap(token) {
                logger.notice("created the admin token 'bootstrap' from EMBER_BOOTSTRAP_TOKEN")
            }
            let scheme = configuration.tls == nil ? "http" : "https"
            let app = try makeApplication(registry: registry, configuration: configuration, logger: logger) { port in
                logger.notice(
                    "Ember registry listening on \(scheme)://\(configuration.host):\(port) (database: \(store.location)); console at \(scheme)://\(configuration.host):\(port)/console"
                )
            }
            if !configuration.requireSignatureV2 && configuration.tls == nil {
                // The server speaks plain HTTP (TLS, if any, ends in front of it), so it cannot tell whether v1 headers
                // crossed the network in the clear.
                logger.warning(
                    """
                    v1 device signatures are accepted on FireFly's routes for devices that have never signed v2; v1 \
                    binds neither method, path nor body, so serve only behind TLS, and start with \
                    --require-signature-v2 once no FireFly firmware is left in the fleet
                    """
                )
            }
            let sweeper = registry.guardSweeper(logger: logger)
            // Stopped in reverse order: the server drains first, then the last check-ins are written.
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: registry.checkInWriter(logger: logger)), .init(service: sweeper), .init(service: app)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
            try await store.close()
            logger.notice("Ember registry stopped; database closed")
        } catch {
            try? await store.close()
            throw error
        }
    }
}
