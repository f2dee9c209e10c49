import AsyncHTTPClient
import EmberCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// An HTTP client of the Ember registry: admin calls with a bearer token, device calls with signatures.
public struct RegistryClient: Sendable {
    /// A reply that is not the expected success: the status and the registry's `message`.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let status: Int
        public let message: String
        public var description: String { "HTTP \(status): \(message)" }
    }

    /// A raw reply.
    public struct Reply: Sendable {
        public let status: Int
        public let headers: [(String, String)]
        public let body: Data

        /// The `message` of an error body, or the body's text.
        public var message: String {
            (try? JSONDecoder().decode(MessageBody.self, from: body).message) ?? String(decoding: body, as: UTF8.self)
        }
    }

    public let baseURL: String
    public let token: String?
    let http: HTTPClient
    let timeout: TimeAmount
    /// The local address requests are sent from (a machine with several), or nil for the system's choice.
    public var localAddress: String?

    /// The connection pool every client shares unless given another (`HTTPClient.Configuration.ember()`).
    public static let sharedHTTP = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: .ember())

    /// A client of the registry at `baseURL` (e.g. `http://127.0.0.1:8080`), sharing `http`'s connection pool.
    public init(baseURL: String, token: String? = nil, http: HTTPClient = RegistryClient.sharedHTTP, timeout: TimeAmount = .seconds(30)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.http = http
        self.timeout = timeout
    }

    /// Sends one request and returns the reply, whatever its status.
    public func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: Data? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.localAddress = localAddress
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await http.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Data(buffer: buffer))
    }

    /// The same client, sending from `address` (nil: the system's choice).
    public func sending(from address: String?) -> RegistryClient {
        var client = self
        client.localAddress = address
        return client
    }

    func decode<T: Decodable>(_ type: T.Type, _ reply: Reply, expecting status: Int) throws -> T {
        guard reply.status == status else { throw Failure(status: reply.status, message: reply.message) }
        do {
            return try JSONDecoder().decode(T.self, from: reply.body)
        } catch {
            throw Failure(status: reply.status, message: "unexpected reply: \(String(decoding: reply.body.prefix(200), as: UTF8.self))")
        }
    }

    func expect(_ reply: Reply, status: Int) throws {
        guard reply.status == status else { throw Failure(status: reply.status, message: reply.message) }
    }
}
