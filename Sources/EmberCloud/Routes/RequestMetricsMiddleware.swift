import Dispatch
import Hummingbird

/// Counts requests and times them by route template, method and status.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: EmberMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        func record(_ status: HTTPResponse.Status) {
            let elapsed = Int64(DispatchTime.now().uptimeNanoseconds - start)
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status.code, nanoseconds: elapsed)
        }
        do {
            let response = try await next(request, context)
            record(response.status)
            return response
        } catch let error as any HTTPResponseError {
            record(error.status)
            throw error
        } catch {
            record(.internalServerError)
            throw error
        }
    }
}
