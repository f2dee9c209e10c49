import EmberCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat

/// Zero-touch onboarding's routes (lifecycle §6): the public enrollment and CA certificate, and the admin side —
/// trusted roots (admin role) and pre-registrations (admin or operator).
struct OnboardingController {
    let onboarding: Onboarding
    let audit: AuthFailureAudit

    func addPublicRoutes(to router: Router<AppRequestContext>) {
        router.post("devices/enroll", use: enroll)
        router.get("ca.pem", use: caCertificate)
    }

    func addRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.post("onboarding-roots", use: addRoot)
        admin.get("onboarding-roots", use: roots)
        admin.delete("onboarding-roots/{sha256}", use: removeRoot)
        admin.post("preregistrations", use: preregister)
        admin.get("preregistrations", use: preregistrations)
        admin.delete("preregistrations/{serial}", use: removePreregistration)
    }

    @Sendable func enroll(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<DeviceCertificateReply> {
        try requireJSON(request)
        let body = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let headers = Onboarding.SignatureHeaders(
            timestamp: request.headers[HTTPField.Name(OnboardingSignature.timestampHeader)!],
            nonce: request.headers[HTTPField.Name(OnboardingSignature.nonceHeader)!],
            signature: request.headers[HTTPField.Name(OnboardingSignature.signatureHeader)!]
        )
        let (created, reply) = try await onboarding.enroll(
            body: body,
            headers: headers,
            audit: audit,
            client: context.clientAddress,
            logger: context.logger
        )
        return EditedResponse(status: created ? .created : .ok, response: reply)
    }

    @Sendable func caCertificate(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/x-pem-file", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: onboarding.caPEM))
        )
    }

    @Sendable func addRoot(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<OnboardingRoot> {
        let admin = try context.requireAdmin(.admin)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let root = try await onboarding.addRoot(
            pem: String(decoding: body.readableBytesView, as: UTF8.self),
            by: AuditActor(actor: admin.name, client: context.clientAddress)
        )
        return EditedResponse(status: .created, response: root)
    }

    @Sendable func roots(_ request: Request, context: AppRequestContext) async throws -> OnboardingRootList {
        _ = try context.requireAdmin(.admin)
        return OnboardingRootList(onboardingRoots: try await onboarding.roots())
    }

    @Sendable func removeRoot(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin(.admin)
        try await onboarding.removeRoot(
            sha256: try context.parameters.require("sha256"),
            by: AuditActor(actor: admin.name, client: context.clientAddress)
        )
        return Response(status: .noContent)
    }

    @Sendable func preregister(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<Preregistration> {
        let admin = try context.requireAdmin()
        try requireJSON(request)
        let body = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        let created = try await onboarding.preregister(body, by: AuditActor(actor: admin.name, client: context.clientAddress))
        return EditedResponse(status: .created, response: created)
    }

    @Sendable func preregistrations(_ request: Request, context: AppRequestContext) async throws -> PreregistrationPage {
        _ = try context.requireAdmin()
        let limit = try pageLimit(request)
        let page = try await onboarding.preregistrations(limit: limit, after: request.uri.queryParameters["after"].map(String.init))
        return PreregistrationPage(preregistrations: page, nextAfter: page.count == limit ? page.last?.serial : nil)
    }

    @Sendable func removePreregistration(_ request: Request, context: AppRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        try await onboarding.removePreregistration(
            serial: try context.parameters.require("serial"),
            by: AuditActor(actor: admin.name, client: context.clientAddress)
        )
        return Response(status: .noContent)
    }
}
