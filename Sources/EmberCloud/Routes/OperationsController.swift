import EmberHTTP
import Foundation
import Hummingbird
import Logging

/// `/health`, `/ready`, `/metrics` and `/openapi.yaml`: no authentication.
struct OperationsController {
    let health: Health
    let metrics: EmberMetrics

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("health") { _, _ in ["status": "ok"] }
        router.get("ready", use: ready)
        router.get("metrics", use: renderMetrics)
        router.get("openapi.yaml", use: openAPI)
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Response {
        do {
            try await health.checkDatabase()
        } catch {
            context.logger.warning("database did not answer the readiness check")
            throw APIError(status: .serviceUnavailable, message: "Database unavailable")
        }
        return try context.responseEncoder.encode(["status": "ready"], from: request, context: context)
    }

    @Sendable func renderMetrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
        )
    }

    @Sendable func openAPI(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text())))
    }
}

/// The OpenAPI 3.1 document of every route, compiled into the binary (`Resources/openapi.yaml`).
public enum OpenAPIDocument {
    /// The document's text.
    public static func text() -> String { EmbeddedResource.openapiYAML }
}
