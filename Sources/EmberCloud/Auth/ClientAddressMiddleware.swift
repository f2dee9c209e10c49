import EmberHTTP
import HTTPTypes
import Hummingbird

/// Replaces the peer address with the forwarded client when the peer is a trusted proxy.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let proxies: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientAddress = proxies.client(
            peer: context.clientAddress,
            forwardedFor: request.headers[values: .xForwardedFor].joined(separator: ",")
        )
        return try await next(request, context)
    }
}
