import EmberCore
import EmberHTTP
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Routes a device calls with a signed request.
struct DeviceController {
    let authenticator: DeviceAuthenticator
    let devices: Devices
    let backups: Backups
    let lifecycle: Lifecycle
    let onboarding: Onboarding
    let accounts: Accounts

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("devices/{uuid}/registration", use: registration)
        router.post("devices/{uuid}/check-in", use: checkIn)
        router.post("devices/{uuid}/actions/{id}/result", use: actionResult)
        router.post("devices/{uuid}/decommission", use: decommissionNotice)
        router.post("devices/{uuid}/keys", use: submitKey)
        router.post("devices/{uuid}/backup", use: uploadBackup)
        router.get("devices/{uuid}/backup", use: downloadBackup)
        router.get("devices/{uuid}/certificate", use: certificate)
        router.post("devices/{uuid}/claim", use: claim)
        router.delete("devices/{uuid}/backup", use: deleteBackup)
    }

    /// Checks everything but the signature before reading any body (a stranger's upload is refused unread), then
    /// reads at most a backup's worth in one of a bounded number of upload slots, then verifies the signature.
    @Sendable func uploadBackup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let pending = try await authenticator.begin(signature(of: request), try facts(of: request, context: context))
        try backups.checkDeclaredLength(request.headers[.contentLength])
        let (device, body) = try await backups.uploadSlots.withSlot {
            let body: Data
            do {
                body = Data(buffer: try await request.body.collect(upTo: BackupLimits.maxBlob))
            } catch is NIOTooManyBytesError {
                throw backups.refuseOversizedBody()
            }
            return (try await authenticator.finish(pending, body: body), body)
        }
        let (outcome, etag) = try await backups.upload(
            body,
            for: device,
            etag: request.headers[.eTag],
            ifNoneMatch: request.headers[.ifNoneMatch]
        )
        switch outcome {
        case .notModified:
            return Response(status: .notModified, headers: [.eTag: BackupETag.quoted(etag)])
        case .stored(let at):
            var response = try context.responseEncoder.encode(
                BackupStored(lastBackupDate: DeviceTimestamp(epochSeconds: at).text),
                from: request,
                context: context
            )
            if !etag.isEmpty { response.headers[.eTag] = BackupETag.quoted(etag) }
            return response
        }
    }

    @Sendable func downloadBackup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let device = try await authenticate(request, context: context, body: Data())
        let backup = try await backups.download(for: device)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/octet-stream", .eTag: backup.info.etag.isEmpty ? "" : BackupETag.quoted(backup.info.etag),
                .contentLength: String(backup.blob.count),
            ],
            body: .init(byteBuffer: ByteBuffer(data: backup.blob))
        )
    }

    @Sendable func deleteBackup(_ request: Request, context: AppRequestContext) async throws -> BackupDeleted {
        let device = try await authenticate(request, context: context, body: Data())
        // Seed 002: the device answers 404 when the cloud held no backup, so the registry says whether one existed.
        return BackupDeleted(existed: try await backups.delete(for: device, client: context.clientAddress))
    }

    @Sendable func registration(_ request: Request, context: AppRequestContext) async throws -> RegistrationStatus {
        do {
            return devices.status(of: try await authenticate(request, context: context, body: Data()))
        } catch DeviceAuthError.unknownDevice {
            // FireFly's registration check answers 404 for a device it does not know; the backup routes answer 401.
            throw APIError(status: .notFound, message: DeviceAuthError.unknownDevice.message)
        }
    }

    @Sendable func checkIn(_ request: Request, context: AppRequestContext) async throws -> CheckInReply {
        let body = try await jsonBody(request, context: context)
        let device = try await authenticate(request, context: context, body: body, policy: .checkIn)
        return try await lifecycle.checkIn(device, body: body)
    }

    @Sendable func actionResult(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await jsonBody(request, context: context)
        let device = try await authenticate(request, context: context, body: body, policy: .lifecycle)
        try await lifecycle.completeAction(device, id: try context.parameters.require("id"), body: body, client: context.clientAddress)
        return Response(status: .noContent)
    }

    @Sendable func decommissionNotice(_ request: Request, context: AppRequestContext) async throws -> DecommissionAcknowledged {
        let body = try await jsonBody(request, context: context)
        let device = try await authenticate(request, context: context, body: body, policy: .retiring)
        return try await lifecycle.decommissionNotice(device, body: body, client: context.clientAddress)
    }

    @Sendable func submitKey(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<KeyAccepted> {
        let body = try await jsonBody(request, context: context)
        let device = try await authenticate(request, context: context, body: body, policy: .lifecycle)
        let (accepted, created) = try await lifecycle.submitKey(
            device,
            body: body,
            nonce: request.headers[.xDeviceNonce] ?? "",
            client: context.clientAddress
        )
        return EditedResponse(status: created ? .created : .ok, response: accepted)
    }

    /// The device certificate for the key that signed (lifecycle §6): after a rotation, a new one.
    @Sendable func certificate(_ request: Request, context: AppRequestContext) async throws -> DeviceCertificateReply {
        let device = try await authenticate(request, context: context, body: Data(), policy: .lifecycle)
        return try await onboarding.certificate(for: device, client: context.clientAddress)
    }

    /// Binds the device to the claim token's account (lifecycle §7).
    @Sendable func claim(_ request: Request, context: AppRequestContext) async throws -> ClaimReply {
        let body = try await jsonBody(request, context: context)
        let device = try await authenticate(request, context: context, body: body, policy: .lifecycle)
        return try await accounts.claim(device, body: body, client: context.clientAddress, logger: context.logger)
    }

    /// A JSON body of at most 64 KiB; an empty body needs no `Content-Type`.
    private func jsonBody(_ request: Request, context: AppRequestContext) async throws -> Data {
        let body = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        if !body.isEmpty { try requireJSON(request) }
        return body
    }

    /// Verifies the request's signature headers; returns the device that signed it.
    func authenticate(
        _ request: Request,
        context: AppRequestContext,
        body: Data,
        policy: DeviceAuthenticator.Policy = .firefly
    ) async throws -> DeviceCredential {
        var facts = try facts(of: request, context: context)
        facts.body = body
        return try await authenticator.authenticate(signature(of: request), facts, policy: policy)
    }

    /// The request's signature headers, parsed, or why they did not parse.
    private func signature(of request: Request) -> Result<SignedRequest, DeviceAuthError> {
        Result { () throws(DeviceAuthError) in
            try SignedRequest(
                uuid: request.headers[.xDeviceUUID],
                nonce: request.headers[.xDeviceNonce],
                timestamp: request.headers[.xDeviceTimestamp],
                signature: request.headers[.xDeviceSignature],
                version: request.headers[.xDeviceSignatureVersion]
            )
        }
    }

    /// What the authenticator is told about the request, without its body.
    private func facts(of request: Request, context: AppRequestContext) throws -> DeviceAuthenticator.RequestFacts {
        DeviceAuthenticator.RequestFacts(
            pathUUID: try context.parameters.require("uuid"),
            method: request.method.rawValue,
            target: request.uri.description,
            client: context.clientAddress
        )
    }
}
