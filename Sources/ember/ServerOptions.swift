import ArgumentParser
import EmberClient
import Foundation

/// `--server` and `--token` of commands that call the registry over HTTP.
struct ServerOptions: ParsableArguments {
    @Option(help: "Registry URL. [env: EMBER_SERVER] (default: http://127.0.0.1:8080)")
    var server: String?

    @Option(help: "Admin API token. [env: EMBER_TOKEN]")
    var token: String?

    @Option(help: "For an https:// registry with a private CA: trust only the certificates in this PEM file. [env: EMBER_CACERT]")
    var cacert: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    /// A client for the registry, or a usage error when no token is given.
    func client() throws -> RegistryClient {
        guard let token = token ?? Environment.string("EMBER_TOKEN") else {
            throw ValidationError("an admin token is needed: pass --token or set EMBER_TOKEN (create one with `ember admin token create`)")
        }
        let base = server ?? Environment.string("EMBER_SERVER") ?? "http://127.0.0.1:8080"
        guard let roots = cacert ?? Environment.string("EMBER_CACERT") else { return RegistryClient(baseURL: base, token: token) }
        if let problem = TrustedHTTP.problem(rootFile: roots) { throw ValidationError("--cacert: \(problem)") }
        return RegistryClient(baseURL: base, token: token, http: try TrustedHTTP.client(rootFile: roots))
    }

    /// Runs a call, turning a refused connection into a message that names the server.
    func call<T>(_ body: (RegistryClient) async throws -> T) async throws -> T {
        let client = try client()
        do {
            return try await body(client)
        } catch let failure as RegistryClient.Failure {
            throw CommandFailure(description: "the registry refused: \(failure.message) (HTTP \(failure.status))")
        } catch {
            throw CommandFailure(description: "cannot reach the registry at \(client.baseURL): \(error)")
        }
    }
}

/// A failure to show the user as it is.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}
