import EmberCore
import Hummingbird
import Logging
import NIOCore

/// The outermost middleware: every error leaves as `{"message": …}`; unexpected ones as a logged, generic 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as WireError {
            throw APIError(status: .badRequest, message: error.message)
        } catch let error as RegistryError {
            throw APIError(error)
        } catch let failure as DeviceAuthenticator.Failure {
            throw APIError(failure)
        } catch is NIOTooManyBytesError {
            throw APIError(status: .contentTooLarge, message: "Request body too large")
        } catch let error as HTTPError {
            throw APIError(status: error.status, message: Self.message(for: error), headers: error.headers)
        } catch {
            context.logger.error("unhandled error", metadata: ["ember.error": "\(String(reflecting: type(of: error)))"])
            throw APIError(status: .internalServerError, message: "Internal server error")
        }
    }

    static func message(for error: HTTPError) -> String {
        switch error.status {
        case .notFound: "Not found"
        case .contentTooLarge: "Request body too large"
        case .methodNotAllowed: "Method not allowed"
        default: error.body ?? error.status.reasonPhrase
        }
    }
}
