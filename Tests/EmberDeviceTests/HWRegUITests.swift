import EmberDevice
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The HW-Reg operator UI's pages: served without a token (they hold no data; the API calls they make need it),
/// with the security headers, this board's product, and every page linked from the navigation.
@Suite struct HWRegUITests {
    @Test func everyPageIsServedWithTheSecurityHeadersAndNoBoardData() async throws {
        try await TestDevice.with { device in
            for path in ["/", "/login", "/identity", "/registration", "/events", "/backups", "/configuration", "/decommission"] {
                let page = try await device.request(.get, path, authorized: false)
                #expect(page.status == .ok, "\(path)")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                let html = String(buffer: page.body)
                #expect(!html.contains("<script>") && html.contains("<script src=\"/ui/hwreg.js\" defer></script>"))
                if path != "/login" {
                    #expect(html.contains("<code>0x") && html.contains("FFC"), "the board's product on \(path)")
                    for link in ["/identity", "/registration", "/events", "/backups", "/configuration", "/decommission"] {
                        #expect(html.contains("href=\"\(link)\""), "\(path) links \(link)")
                    }
                }
            }
            for name in ["hwreg.js", "hwreg-setup.js", "hwreg-data.js"] {
                let script = try await device.request(.get, "/ui/\(name)", authorized: false)
                #expect(script.status == .ok && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
                #expect(String(buffer: script.body).contains("HWReg"))
            }
            let css = try await device.request(.get, "/ui/ember.css", authorized: false)
            #expect(css.status == .ok && css.headers[.contentType]?.hasPrefix("text/css") == true)
            #expect(try await device.request(.get, "/ui/missing.js", authorized: false).status == .notFound)
        }
    }

    @Test func theConfigurationPageHasALabelledFieldForEverySetting() async throws {
        try await TestDevice.with { device in
            let html = String(buffer: try await device.request(.get, "/configuration", authorized: false).body)
            for field in [
                "cloud_url", "wifi.ssid", "wifi.password", "fleet_id", "region", "check_in_interval_s", "backup_interval_s", "display.timeout_s",
                "ntp_servers",
            ] {
                #expect(html.contains("data-field=\"\(field)\""), "\(field)")
            }
            #expect(html.components(separatedBy: "<label>").count - 1 == 9)
        }
    }
}
