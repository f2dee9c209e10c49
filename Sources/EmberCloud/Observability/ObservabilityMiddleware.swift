import Dispatch
import Hummingbird
import Logging

/// Times each request once and records it: metrics by route template, method and status, and, when asked, one log
/// line with the route template — never the raw path, which can hold a registration key.
struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: EmberMetrics
    /// Level of the per-request log line; nil for none.
    let logLevel: Logger.Level?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await next(request, context)
            record(response.status, request, context, since: start)
            return response
        } catch let error as any HTTPResponseError {
            record(error.status, request, context, since: start)
            throw error
        } catch {
            record(.internalServerError, request, context, since: start)
            throw error
        }
    }

    private func record(_ status: HTTPResponse.Status, _ request: Request, _ context: Context, since start: UInt64) {
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        let route = context.endpointPath ?? "unmatched"
        metrics.request(route: route, method: request.method.rawValue, status: status.code, nanoseconds: Int64(elapsed))
        guard let logLevel else { return }
        context.logger.log(
            level: logLevel,
            "request",
            metadata: [
                "http.method": "\(request.method.rawValue)", "http.route": "\(route)", "http.status": "\(status.code)",
                "http.duration_ms": "\(Double(elapsed / 10_000) / 100)",
            ]
        )
    }
}
