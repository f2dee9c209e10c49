import EmberCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat

/// FireFly's headers on every response (errors included, so it sits outside the error renderer) and OPTIONS
/// preflights. CORS headers go only to the configured origins: FireFly allows every origin, which lets any web page
/// an operator opens send wrong tokens to the device in the operator's name until the operator is locked out.
struct FireFlyHeadersMiddleware: RouterMiddleware {
    typealias Context = HWRegContext
    let server: String
    let allowedOrigins: Set<String>

    static let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let allowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let allowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let allowedHeaders = [FireFlyHeader.visualToken, FireFlyHeader.contentType, FireFlyHeader.registrationKey, FireFlyHeader.ifNoneMatch]

    static let origin = HTTPField.Name("Origin")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowed = allowedOrigin(request.headers[Self.origin])
        var response: Response
        if request.method == .options {
            response = allowed == nil ? Self.refusedPreflight(request.headers[Self.origin]) : Response(status: .ok)
        } else {
            response = try await next(request, context)
        }
        if let allowed {
            response.headers[Self.allowOrigin] = allowed
            response.headers[Self.allowHeaders] = Self.allowedHeaders.joined(separator: ", ")
            response.headers[Self.allowMethods] = "GET, HEAD, POST, PUT, OPTIONS, DELETE"
        }
        if !allowedOrigins.isEmpty && !allowedOrigins.contains("*") { response.headers[.vary] = "Origin" }
        response.headers[.server] = server
        return response
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or nil when it gets none.
    func allowedOrigin(_ origin: String?) -> String? {
        if allowedOrigins.contains("*") { return "*" }
        guard let origin, allowedOrigins.contains(origin) else { return nil }
        return origin
    }

    private static func refusedPreflight(_ origin: String?) -> Response {
        let message = "Origin \(origin.map { "'\($0.prefix(200))'" } ?? "(none)") may not call this device; start the agent with --allowed-origin"
        let body = (try? JSONEncoder().encode(MessageBody(message: message))) ?? Data()
        return Response(status: .forbidden, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: body)))
    }
}
