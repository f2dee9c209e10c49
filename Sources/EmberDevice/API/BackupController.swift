import EmberCore
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat

/// The FireFly Controller firmware's backup routes: `/backup` (the local file) and `/api/cloud-backup` (its
/// encrypted copy in the cloud).
struct BackupController {
    let agent: DeviceAgent

    var tokens: VisualTokens { agent.tokens }

    func addRoutes(to router: Router<HWRegContext>) {
        router.head("/backup", use: headLocal)
        router.get("/backup", use: getLocal)
        router.put("/backup", use: putLocal)
        router.delete("/backup", use: deleteLocal)
        router.post("/api/cloud-backup", use: push)
        router.get("/api/cloud-backup", use: retrieve)
        router.delete("/api/cloud-backup", use: deleteCloud)
    }

    static let noLocalBackup = AgentFailure.notFound("No /backup.json on this device")
    static let tooLarge = AgentFailure.tooLarge("Backup exceeds the 512 KiB limit")

    @Sendable func headLocal(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        guard let (_, etag) = try await agent.localBackup() else { throw Self.noLocalBackup }
        return Response(status: .ok, headers: [.contentType: "application/json", .eTag: BackupETag.quoted(etag)])
    }

    @Sendable func getLocal(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        guard let (data, etag) = try await agent.localBackup() else { throw Self.noLocalBackup }
        return Self.backupResponse(data, etag: etag)
    }

    @Sendable func putLocal(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > BackupLimits.maxPlaintext {
            throw AgentFailure.tooLarge("Backup exceeds the 512 KiB limit (\(length) bytes)")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: BackupLimits.maxPlaintext) } catch is NIOTooManyBytesError { throw Self.tooLarge }
        try await agent.putLocalBackup(Data(buffer: body))
        return Response(status: .noContent)
    }

    @Sendable func deleteLocal(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        guard try await agent.deleteLocalBackup() else { throw Self.noLocalBackup }
        return Response(status: .noContent)
    }

    @Sendable func push(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        return try HWRegController.json(CloudStatusBody(status: try await agent.pushBackup()))
    }

    @Sendable func retrieve(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        let (data, etag) = try await agent.retrieveBackup()
        return Self.backupResponse(data, etag: etag)
    }

    @Sendable func deleteCloud(_ request: Request, context: HWRegContext) async throws -> Response {
        try tokens.authorize(request, context)
        try await agent.deleteCloudBackup()
        return Response(status: .noContent)
    }

    static func backupResponse(_ data: Data, etag: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json", .eTag: BackupETag.quoted(etag)],
            body: .init(byteBuffer: ByteBuffer(data: data))
        )
    }
}
