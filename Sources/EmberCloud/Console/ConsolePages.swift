import EmberCore
import EmberHTTP
import Foundation
import HTTPTypes
import Hummingbird

/// The console's pages: each template between `console-top` (header, navigation, notices) and `console-bottom`.
struct ConsolePages: Sendable {
    let html: HTMLPages

    init() {
        do {
            html = try HTMLPages(files: EmbeddedResource.files)
        } catch {
            preconditionFailure("the console's templates do not parse: \(error)")
        }
    }

    /// Sections of the navigation, with the roles that see each.
    static let sections: [(href: String, label: String, roles: Set<AdminRole>)] = [
        ("/console", "Overview", [.operator, .admin]),
        ("/console/keys", "Registration keys", [.operator, .admin]),
        ("/console/devices", "Devices", [.user, .operator, .admin]),
        ("/console/claim-tokens", "Claim tokens", [.user]),
        ("/console/onboarding", "Zero-touch", [.operator, .admin]),
        ("/console/audit", "Audit", [.admin]),
        ("/console/tokens", "Tokens", [.admin]),
    ]

    /// A page of the signed-in console; `section` is the navigation entry shown as current.
    func page(
        _ template: String,
        title: String,
        section: String,
        context: AppRequestContext,
        values: [String: Any] = [:],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var all = values
        all["title"] = title
        if let session = context.console {
            let isAdmin = session.token.role == .admin
            all["csrf"] = session.csrf
            all["isAdmin"] = isAdmin
            all["signedIn"] = ["name": session.token.name, "role": session.token.role.rawValue] as [String: Any]
            all["nav"] = Self.sections.filter { $0.roles.contains(session.token.role) }.map {
                ["href": $0.href, "label": $0.label, "current": $0.href == section] as [String: Any]
            }
        }
        return html.response(template, all, status: status)
    }

    /// A page that explains a failure: what happened and what to do.
    func problem(status: HTTPResponse.Status, title: String, message: String, context: AppRequestContext) -> Response {
        page("console-problem", title: title, section: "", context: context, values: ["heading": title, "message": message], status: status)
    }

    /// `2026-12-03 12:00:05`, UTC.
    static func time(_ seconds: Int64?) -> String {
        guard let seconds else { return "—" }
        return DeviceTimestamp(epochSeconds: seconds).text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
    }

    /// `3 h 20 min`.
    static func duration(_ seconds: Int64) -> String {
        let hours = seconds / 3600
        let minutes = (seconds % 3600) / 60
        if hours >= 48 { return "\(hours / 24) days" }
        if hours > 0 { return minutes > 0 ? "\(hours) h \(minutes) min" : "\(hours) h" }
        return minutes > 0 ? "\(minutes) min" : "\(seconds) s"
    }

    /// A query string of the non-empty values, in order.
    static func query(_ pairs: [(String, String?)]) -> String {
        var components = URLComponents()
        components.queryItems = pairs.compactMap { name, value in
            guard let value, !value.isEmpty else { return nil }
            return URLQueryItem(name: name, value: value)
        }
        return components.percentEncodedQuery ?? ""
    }
}

/// Turns a failure on a console page into an HTML page with the status and message the API would give.
struct ConsoleErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: ConsolePages
    let mapping = ErrorRenderingMiddleware<AppRequestContext>(tooLargeMessage: "The form is too large", map: APIError.registry)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let failure = mapping.failure(for: error, context: context)
            let title =
                switch failure.status.code {
                case 400: "Check the form"
                case 401: "Not signed in"
                case 403: "Not allowed"
                case 404: "Not found"
                case 409: "Conflict"
                case 429: "Too many attempts"
                default: failure.status.code >= 500 ? "Something went wrong" : failure.status.reasonPhrase
                }
            var response = pages.problem(status: failure.status, title: title, message: failure.message, context: context)
            response.headers.append(contentsOf: failure.headers)
            return response
        }
    }
}
