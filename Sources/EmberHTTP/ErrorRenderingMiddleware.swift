import EmberCore
import Hummingbird
import Logging
import NIOCore

/// The one place an error becomes a response: the server's own domain errors through `map`, FireFly's wire
/// validation as 400, Hummingbird's errors rewritten to `{"message": …}`, and anything else a generic 500 logged
/// with its value and the request id (the context logger carries it) — never its text in the body.
public struct ErrorRenderingMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Turns a server's domain error into its response; nil for errors it does not know.
    let map: @Sendable (any Error) -> APIError?
    /// The message of a 413 for a body over the route's limit.
    let tooLargeMessage: String

    public init(tooLargeMessage: String, map: @escaping @Sendable (any Error) -> APIError?) {
        self.map = map
        self.tooLargeMessage = tooLargeMessage
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try failure(for: error, context: context).response(from: request, context: context)
        }
    }

    /// What `error` is answered with (a web page renders the same status and message); a 500 is logged here.
    public func failure(for error: any Error, context: Context) -> APIError {
        let failure = apiError(for: error)
        if failure.status == .internalServerError {
            context.logger.error(
                "request failed",
                metadata: ["ember.error": "\(error)", "ember.error.type": "\(String(reflecting: type(of: error)))"]
            )
        }
        return failure
    }

    func apiError(for error: any Error) -> APIError {
        if let error = error as? APIError { return error }
        if let mapped = map(error) { return mapped }
        switch error {
        case let error as WireError:
            return APIError(status: .badRequest, message: error.message)
        case is NIOTooManyBytesError:
            return APIError(status: .contentTooLarge, message: tooLargeMessage)
        case let error as HTTPError:
            return APIError(status: error.status, message: Self.message(for: error, tooLarge: tooLargeMessage), headers: error.headers)
        default:
            return APIError(status: .internalServerError, message: "Internal server error")
        }
    }

    static func message(for error: HTTPError, tooLarge: String) -> String {
        switch error.status {
        case .notFound: "Not found"
        case .contentTooLarge: tooLarge
        case .methodNotAllowed: "Method not allowed"
        default: error.body ?? error.status.reasonPhrase
        }
    }
}
