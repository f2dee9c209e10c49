import EmberCore
import HTTPTypes
import Hummingbird

/// FireFly's headers on every response (errors included, so it sits outside the error renderer) and OPTIONS preflights.
struct FireFlyHeadersMiddleware: RouterMiddleware {
    typealias Context = HWRegContext
    let server: String

    static let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let allowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let allowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let allowedHeaders = [FireFlyHeader.visualToken, FireFlyHeader.contentType, FireFlyHeader.registrationKey, FireFlyHeader.ifNoneMatch]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = request.method == .options ? Response(status: .ok) : try await next(request, context)
        response.headers[Self.allowOrigin] = "*"
        response.headers[Self.allowHeaders] = Self.allowedHeaders.joined(separator: ", ")
        response.headers[Self.allowMethods] = "GET, HEAD, POST, PUT, OPTIONS, DELETE"
        response.headers[.server] = server
        return response
    }
}
