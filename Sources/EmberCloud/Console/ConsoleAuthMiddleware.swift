import EmberHTTP
import Hummingbird

/// Console pages behind sign-in: the session cookie must name a live session (else the browser goes to the sign-in
/// page), and every form post must carry the session's form token (else 403 and nothing is done).
struct ConsoleAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let cookieName = "ember_console"
    let sessions: ConsoleSessions
    let pages: ConsolePages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let cookie = request.cookies[Self.cookieName]?.value, let session = try await sessions.session(cookie: cookie) else {
            return HTMLPages.redirect(to: "/console/login")
        }
        var context = context
        context.console = session
        context.admin = session.token
        var request = request
        if request.method == .post {
            let form = try await ConsoleForm.read(CSRFField.self, from: &request, context: context)
            guard WebToken.matches(form?.csrf, session.csrf) else {
                return pages.problem(
                    status: .forbidden,
                    title: "Form expired",
                    message:
                        "This form did not come from your console session, or the session has changed. Nothing was done: go back, reload the page and try again.",
                    context: context
                )
            }
        }
        return try await next(request, context)
    }

    struct CSRFField: Decodable {
        var csrf: String?
    }
}

/// Reading a console form (`application/x-www-form-urlencoded`, at most 64 KiB).
enum ConsoleForm {
    /// The form's fields as `T`; nil when the body is not a form or does not decode. The body stays readable for the
    /// route after a middleware has read it.
    static func read<T: Decodable>(_ type: T.Type, from request: inout Request, context: AppRequestContext) async throws -> T? {
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else { return nil }
        return try? URLEncodedFormDecoder().decode(T.self, from: String(buffer: body))
    }

    /// The route's form: decoded, or 400 naming what to fix.
    static func require<T: Decodable>(_ type: T.Type, _ request: Request, context: AppRequestContext) async throws -> T {
        var request = request
        guard let form = try await read(type, from: &request, context: context) else {
            throw RegistryError.badRequest("The form was incomplete; reload the page and try again")
        }
        return form
    }
}
