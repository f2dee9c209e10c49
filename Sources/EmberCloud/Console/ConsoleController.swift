import EmberCore
import EmberHTTP
import Foundation
import Hummingbird
import Logging

/// The admin console under `/console`: sign-in and sign-out, the overview and the registration keys. Devices, audit
/// and tokens are in their own controllers; every page calls the same services as the JSON API.
struct ConsoleController {
    static let loginCookie = "ember_console_login"
    let sessions: ConsoleSessions
    let keys: RegistrationKeys
    let devices: Devices
    let audit: AuditLog
    let pages: ConsolePages
    let clock: any RegistryClock
    let secureCookies: Bool

    /// Sign-in and the assets: open to everyone.
    func addPublicRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("login", use: loginPage)
        group.post("login", use: login)
        group.get("assets/ember.css") { _, _ in HTMLPages.asset(HTMLPages.stylesheet, contentType: "text/css; charset=utf-8") }
        group.get("assets/console.js") { _, _ in HTMLPages.asset(EmbeddedResource.consoleJS, contentType: "text/javascript; charset=utf-8") }
    }

    /// Pages behind a session.
    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: overview)
        group.post("logout", use: logout)
        group.get("keys", use: keyList)
        group.post("keys", use: mint)
        group.post("keys/revoke", use: revoke)
    }

    func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/console", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// The sign-in form; its hidden field must come back with the cookie set here (a page elsewhere cannot sign a
    /// browser in to a session of someone else's).
    @Sendable func loginPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let value = request.cookies[ConsoleAuthMiddleware.cookieName]?.value, try await sessions.session(cookie: value) != nil {
            return HTMLPages.redirect(to: "/console")
        }
        return loginForm(context: context)
    }

    private func loginForm(context: AppRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let login = WebToken.generate()
        var values: [String: Any] = ["login": login]
        if let error { values["error"] = error }
        var response = pages.page("console-login", title: "Sign in", section: "", context: context, values: values, status: status)
        response.setCookie(cookie(Self.loginCookie, login, maxAge: 3600))
        return response
    }

    struct LoginForm: Decodable {
        var token: String?
        var login: String?
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await ConsoleForm.read(LoginForm.self, from: &request, context: context)
        guard let form, let expected = request.cookies[Self.loginCookie]?.value, WebToken.matches(form.login, expected) else {
            return loginForm(context: context, error: "The sign-in form expired. Enter your token again.", status: .forbidden)
        }
        let signedIn: (cookie: String, session: ConsoleSessionRecord)?
        do {
            signedIn = try await sessions.signIn(presented: form.token ?? "", client: context.clientAddress)
        } catch RegistryError.tooManyRequests(let message, let retryAfter) {
            var response = loginForm(context: context, error: message, status: .tooManyRequests)
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
        guard let signedIn else {
            return loginForm(
                context: context,
                error: "That token is not valid: it may be mistyped, revoked, or from another registry.",
                status: .unauthorized
            )
        }
        var response = HTMLPages.redirect(to: "/console")
        response.setCookie(cookie(ConsoleAuthMiddleware.cookieName, signedIn.cookie, maxAge: Int(ConsoleSessions.lifetime)))
        response.setCookie(cookie(Self.loginCookie, "", maxAge: 0))
        context.logger.info("console sign-in", metadata: ["ember.token": "\(signedIn.session.token.name)"])
        return response
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let session = context.console { try await sessions.signOut(session, client: context.clientAddress) }
        var response = HTMLPages.redirect(to: "/console/login")
        response.setCookie(cookie(ConsoleAuthMiddleware.cookieName, "", maxAge: 0))
        return response
    }

    @Sendable func overview(_ request: Request, context: AppRequestContext) async throws -> Response {
        // A user token's console is its account's devices: the fleet-wide overview is not for it.
        if context.admin?.role == .user { return HTMLPages.redirect(to: "/console/devices") }
        let admin = try context.requireAdmin()
        let now = clock.now()
        let firstDay = now / 86400 - 29
        let summary = try await devices.summary(since: firstDay * 86400)
        var values: [String: Any] = [
            "registered": summary.products.reduce(0) { $0 + $1.registered },
            "decommissioned": summary.products.reduce(0) { $0 + $1.decommissioned },
            "productCount": summary.products.count,
            "products": summary.products.map {
                ["productID": $0.productID, "productHex": $0.productHex, "registered": $0.registered, "decommissioned": $0.decommissioned]
                    as [String: Any]
            },
            "chart": RegistrationChart(days: summary.perDay, firstDay: firstDay, count: 30).values,
        ]
        if admin.role == .admin {
            values["audit"] = ["entries": try await audit.entries(AuditQuery(limit: 10, newestFirst: true)).map(Self.auditRow)]
        }
        return pages.page("console-overview", title: "Overview", section: "/console", context: context, values: values)
    }

    static func auditRow(_ entry: AuditEntry) -> [String: Any] {
        [
            "at": ConsolePages.time(entry.at), "actor": entry.actor, "action": entry.action, "subject": entry.subject, "detail": entry.detail,
            "client": entry.client,
        ]
    }

    @Sendable func keyList(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let active = try await keys.active(owner: admin.name)
        let notice = request.uri.queryParameters["revoked"].map { "Revoked key \($0)." }
        var values: [String: Any] = [
            "ttl": ConsolePages.duration(keys.ttl),
            "keys": active.map {
                [
                    "key": $0.key, "generated": ConsolePages.time($0.generatedAt), "expires": ConsolePages.time($0.expiresAt),
                    "expiresAt": $0.expiresAt,
                ]
                    as [String: Any]
            },
        ]
        if let notice { values["notice"] = notice }
        return pages.page("console-keys", title: "Registration keys", section: "/console/keys", context: context, values: values)
    }

    struct MintForm: Decodable {
        var count: String?
    }

    /// One key, or (with the form's count above 1) a batch shown as a list to copy.
    @Sendable func mint(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let form = try await ConsoleForm.require(MintForm.self, request, context: context)
        let text = form.count?.trimmingCharacters(in: .whitespaces) ?? ""
        if !text.isEmpty && text != "1" {
            let count: Int
            do { count = try RegistrationKeyBatchRequest(count: Int(text) ?? 0).validated() } catch { throw RegistryError.badRequest(error.message) }
            let batch = try await keys.mint(count: count, owner: admin.name, client: context.clientAddress)
            let values: [String: Any] = [
                "keys": batch.keys.joined(separator: "\n"), "count": count, "expires": ConsolePages.time(batch.expiresAt),
                "expiresAt": batch.expiresAt, "ttl": ConsolePages.duration(batch.expiresAt - clock.now()),
            ]
            return pages.page(
                "console-key-minted",
                title: "Keys minted",
                section: "/console/keys",
                context: context,
                values: values,
                status: .created
            )
        }
        let created = try await keys.mint(owner: admin.name, client: context.clientAddress)
        context.logger.info("registration key minted", metadata: ["ember.key": "\(RegistrationKey.masked(created.key))"])
        let values: [String: Any] = [
            "key": created.key, "expires": ConsolePages.time(created.expiresAt), "expiresAt": created.expiresAt,
            "ttl": ConsolePages.duration(created.expiresAt - clock.now()),
        ]
        return pages.page("console-key-minted", title: "Key minted", section: "/console/keys", context: context, values: values, status: .created)
    }

    struct KeyForm: Decodable {
        var key: String
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let form = try await ConsoleForm.require(KeyForm.self, request, context: context)
        try await keys.revoke(form.key, owner: admin.name, client: context.clientAddress)
        return HTMLPages.redirect(to: "/console/keys?" + ConsolePages.query([("revoked", RegistrationKey.masked(form.key))]))
    }
}

/// The overview's bar chart: one bar per day, scaled to the busiest.
struct RegistrationChart {
    let days: [DayCount]
    let firstDay: Int64
    let count: Int

    var values: [String: Any] {
        let width = 600.0
        let height = 160.0
        let plot = height - 16
        let byDay = Dictionary(days.map { ($0.day, $0.count) }, uniquingKeysWith: +)
        let counts = (0..<count).map { byDay[firstDay + Int64($0)] ?? 0 }
        let most = max(counts.max() ?? 0, 1)
        let slot = width / Double(count)
        let bars: [[String: Any]] = counts.enumerated().map { index, value in
            let barHeight = value == 0 ? 0 : max(1, plot * Double(value) / Double(most))
            return [
                "x": Self.number(Double(index) * slot + 1), "y": Self.number(plot - barHeight), "width": Self.number(slot - 2),
                "height": Self.number(barHeight), "day": Self.date(firstDay + Int64(index)), "count": value,
            ]
        }
        return [
            "width": Int(width), "height": Int(height), "labelY": Int(height - 2), "bars": bars, "max": counts.max() ?? 0,
            "total": counts.reduce(0, +), "first": Self.date(firstDay), "last": Self.date(firstDay + Int64(count - 1)),
        ]
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    static func date(_ day: Int64) -> String { String(ConsolePages.time(day * 86400).prefix(10)) }
}
