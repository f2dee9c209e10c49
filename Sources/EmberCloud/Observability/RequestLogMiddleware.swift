import Dispatch
import Hummingbird
import Logging

/// One log line per request with the route template, never the raw path (which can hold a registration key).
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        func log(_ status: HTTPResponse.Status) {
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            context.logger.log(
                level: level, "request",
                metadata: [
                    "http.method": "\(request.method.rawValue)", "http.route": "\(context.endpointPath ?? "unmatched")",
                    "http.status": "\(status.code)", "http.duration_ms": "\(Double(Int(milliseconds * 100)) / 100)",
                ])
        }
        do {
            let response = try await next(request, context)
            log(response.status)
            return response
        } catch let error as any HTTPResponseError {
            log(error.status)
            throw error
        } catch {
            log(.internalServerError)
            throw error
        }
    }
}
