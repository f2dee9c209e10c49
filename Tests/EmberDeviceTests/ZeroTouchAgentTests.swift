import EmberCore
import EmberDevice
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The device side of zero-touch in process: the status without onboarding files, a broken onboarding key, and the
/// cloud URL rule `--allow-insecure-cloud` relaxes. (Enrollment itself runs end to end in ZeroTouchEndToEndTests.)
struct ZeroTouchAgentTests {
    @Test func aBoardWithoutOnboardingFilesIsOffAndRegistersByKey() async throws {
        try await TestDevice.with { device in
            let response = try await device.request(.get, "/api/zero-touch")
            #expect(response.status == .ok)
            #expect(try response.json(ZeroTouchStatus.self).state == .off)
        }
    }

    @Test func anUnreadableOnboardingKeyStopsTheEnrollment() async throws {
        try await TestDevice.with(cloud: "http://127.0.0.1:9") { device in
            let config = device.folder.appendingPathComponent("config")
            try Data("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n".utf8)
                .write(to: config.appendingPathComponent("onboard.cert.pem"))
            try Data("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n".utf8).write(
                to: config.appendingPathComponent("onboard.key.pem")
            )
            _ = try await device.provision()
            try await eventually { await device.agent.zeroTouchStatus().state == .failed }
            let status = await device.agent.zeroTouchStatus()
            #expect(status.message == "The onboarding key or certificate on the config partition is unreadable", "\(status)")
            #expect(try await device.events().map(\.text).contains("Zero-touch failed"))
        }
    }

    @Test func plainHTTPCloudsAreLoopbackOnlyUnlessAllowed() {
        #expect(DeviceConfig.cloudURLProblem("http://registry.example.com") != nil)
        #expect(DeviceConfig.cloudURLProblem("http://127.0.0.1:8080") == nil)
        #expect(DeviceConfig.cloudURLProblem("https://registry.example.com") == nil)
        #expect(DeviceConfig.cloudURLProblem("http://registry.example.com", allowInsecure: true) == nil)
        #expect(DeviceConfig.cloudURLProblem("ftp://registry.example.com", allowInsecure: true) != nil)
    }
}
