import EmberClient
import EmberCore
import EmberDevice
import EmberHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import Synchronization
import Testing

/// A cloud that answers with a redirect never receives the device's headers somewhere else: the agent does not
/// follow redirects.
struct RedirectTests {
    @Test func deviceCallsDoNotFollowRedirects() async throws {
        let hits = Mutex<[String]>([])
        let target = Router()
        target.get("/**") { request, _ in
            hits.withLock { $0.append(request.uri.path) }
            return "reached"
        }
        target.post("/**") { request, _ in
            hits.withLock { $0.append(request.uri.path) }
            return Response(status: .noContent)
        }
        try await Application(router: target, logger: quietLogger).test(.live) { targetClient in
            let elsewhere = "http://127.0.0.1:\(try #require(targetClient.port))"
            let redirector = Router()
            redirector.on("/**", method: .get) { request, _ in
                Response(status: .temporaryRedirect, headers: [.location: elsewhere + request.uri.path])
            }
            redirector.on("/**", method: .post) { request, _ in
                Response(status: .temporaryRedirect, headers: [.location: elsewhere + request.uri.path])
            }
            try await Application(router: redirector, logger: quietLogger).test(.live) { redirectClient in
                let cloud = "http://127.0.0.1:\(try #require(redirectClient.port))"
                try await TestDevice.with(cloud: cloud) { device in
                    try await device.provision()
                    let response = try await device.request(.post, "/api/registration", headers: [.xRegistrationKey: "ABC123"])
                    #expect(response.status == .badGateway, "\(response.message ?? "")")
                    // The admin client does not follow either.
                    let admin = try await RegistryClient(baseURL: cloud, token: "secret-admin-token").send(.GET, "/devices")
                    #expect(admin.status == 307)
                }
            }
        }
        #expect(hits.withLock { $0 }.isEmpty, "the redirect target saw \(hits.withLock { $0 })")
    }
}

/// Seed 002's answers when the cloud does not know the device or holds no backup.
struct CloudBackupContractTests {
    @Test func aCloudThatDoesNotKnowTheDeviceIs409AndAMissingBackupIs404() async throws {
        try await LiveCloud.with { home in
            try await LiveCloud.with { stranger in
                try await TestDevice.with(cloud: home.url) { device in
                    let uuid = try await device.register(with: home)
                    #expect(try await device.request(.put, "/backup", json: #"{"site":"north"}"#).status == .noContent)
                    let none = try await device.request(.delete, "/api/cloud-backup")
                    #expect(none.status == .notFound && none.message == "No backup in the cloud for this device")
                    #expect(try await device.request(.get, "/backup").status == .ok, "the local file stays when the cloud had none")

                    // Pointed at a registry that never registered it: every backup call is 409, not 502.
                    let unconfirmed = try await device.request(.patch, "/api/config", json: #"{"cloud_url":"\#(stranger.url)"}"#)
                    #expect(unconfirmed.status == .conflict)
                    #expect(unconfirmed.message == "cloud_url of a registered device changes only with ?confirm=<this device's UUID>")
                    #expect(await device.agent.config.cloudURL == home.url, "not moved")
                    let moved = try await device.request(.patch, "/api/config?confirm=\(uuid)", json: #"{"cloud_url":"\#(stranger.url)"}"#)
                    #expect(moved.status == .ok)
                    #expect(try await device.events().map(\.text).contains("Cloud URL changed"))
                    for (method, path) in [
                        (HTTPRequest.Method.post, "/api/cloud-backup"), (.get, "/api/cloud-backup"), (.delete, "/api/cloud-backup"),
                    ] {
                        let response = try await device.request(method, path)
                        #expect(response.status == .conflict && response.message == "Device not registered with the cloud", "\(method) \(path)")
                    }
                }
            }
        }
    }

    /// Seed 002: "If the device is not provisioned, all cloud backup API calls return 409" — for each way a device
    /// can fall short of that (no identity is `cloudBackupRefusesWhatItCannotDo`, a cloud that does not know it is above).
    @Test func everyOtherWayOfNotBeingProvisionedIs409() async throws {
        try await LiveCloud.with { cloud in
            // An identity, and a cloud whose registration check says the device is not registered.
            try await TestDevice.with(cloud: cloud.url) { device in
                try await device.provision()
                try await device.agent.reboot()
                try await eventually {
                    let status = try await device.request(.get, "/api/registration")
                    guard status.status == .ok else { return false }
                    let body = try status.json([String: JSONValue].self)
                    return body["registered"] == .bool(false)
                }
                for method in [HTTPRequest.Method.post, .get, .delete] {
                    let response = try await device.request(method, "/api/cloud-backup")
                    #expect(response.status == .conflict && response.message == "Device not registered with the cloud", "\(method)")
                }
            }
        }
        // An identity and the time, but no cloud at all.
        try await TestDevice.with { device in
            try await device.provision()
            for method in [HTTPRequest.Method.post, .get, .delete] {
                let response = try await device.request(method, "/api/cloud-backup")
                #expect(response.status == .conflict && response.message == "No cloud configured; register the device first", "\(method)")
            }
        }
    }
}
