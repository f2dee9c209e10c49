import Crypto
import EmberCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Server-side pages from Mustache templates compiled into the binary. `{{value}}` is HTML-escaped; our templates
/// never put data in triple braces, so a `<script>` in a device field is shown as text.
public struct HTMLPages: Sendable {
    let library: MustacheLibrary

    /// The templates among `files` (names ending `.mustache`), each registered under its name without the extension.
    public init(files: [String: String]) throws {
        var library = MustacheLibrary()
        for (name, text) in files where name.hasSuffix(".mustache") {
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        self.library = library
    }

    /// The page `template` renders from `values`; a missing template is a programming error.
    public func render(_ template: String, _ values: [String: Any]) -> String {
        guard let text = library.render(values, withTemplate: template) else {
            preconditionFailure("no template named \(template)")
        }
        return text
    }

    /// An HTML response with the page.
    public func response(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: render(template, values)))
        )
    }

    /// A stylesheet or script compiled into the binary; browsers may keep it for an hour.
    public static func asset(_ text: String, contentType: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: contentType, .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// The stylesheet both web interfaces share.
    public static var stylesheet: String { EmbeddedResource.emberCSS }

    /// A 303 to `location` (after a form post, and to the sign-in page).
    public static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// Random values for cookies and form tokens: 256 bits, URL-safe base64 without padding.
public enum WebToken {
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// SHA-256 of a token, hex: how a session is stored and found.
    public static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }

    /// Whether `presented` is `expected`, in time that does not depend on where they differ.
    public static func matches(_ presented: String?, _ expected: String) -> Bool {
        guard let presented else { return false }
        return SHA256.hash(data: Data(presented.utf8)) == SHA256.hash(data: Data(expected.utf8))
    }
}

/// The headers every page of a web interface carries: nothing from elsewhere may load, no framing, no sniffing, no
/// caching of pages that show fleet data.
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
