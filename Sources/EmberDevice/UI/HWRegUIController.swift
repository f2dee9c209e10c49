import EmberCore
import EmberHTTP
import Foundation
import Hummingbird

/// The HW-Reg operator UI at `/`: pages rendered here from templates compiled into the binary, filled in by
/// `hwreg*.js` from the board's own JSON API with the visual token, as FireFly's UI does. No page holds data that
/// needs the token, so the pages themselves are open.
struct HWRegUIController {
    let agent: DeviceAgent
    let pages: HTMLPages

    init(agent: DeviceAgent) {
        self.agent = agent
        do {
            pages = try HTMLPages(files: EmbeddedResource.files)
        } catch {
            preconditionFailure("the HW-Reg UI's templates do not parse: \(error)")
        }
    }

    /// The pages, in navigation order: path, template, title.
    static let sections: [(path: String, id: String, label: String)] = [
        ("/", "hardware", "Hardware"),
        ("/identity", "identity", "Identity"),
        ("/registration", "registration", "Registration"),
        ("/provisioning", "provisioning", "Wi-Fi setup"),
        ("/events", "events", "Events"),
        ("/backups", "backup", "Backup"),
        ("/configuration", "config", "Configuration"),
        ("/decommission", "decommission", "Decommission"),
    ]

    /// The configuration form's fields: dotted name in `/api/config`, label, kind (`text`, `int`, `list`).
    static let configFields: [(name: String, label: String, kind: String)] = [
        ("cloud_url", "Cloud URL", "text"), ("wifi.ssid", "Wi-Fi network", "text"), ("wifi.password", "Wi-Fi password", "secret"),
        ("fleet_id", "Fleet", "text"), ("region", "Region", "text"), ("check_in_interval_s", "Check-in interval (s)", "int"),
        ("backup_interval_s", "Backup interval (s)", "int"), ("display.timeout_s", "Display timeout (s)", "int"),
        ("ntp_servers", "NTP servers (comma-separated)", "list"),
    ]

    func addRoutes(to router: Router<HWRegContext>) {
        let ui = router.group().add(middleware: SecurityHeadersMiddleware())
        ui.get("/login") { _, _ in await page("login", title: "Sign in", current: "") }
        for section in Self.sections {
            ui.get(RouterPath(section.path)) { _, _ in await page(section.id, title: section.label, current: section.id) }
        }
        ui.get("/ui/ember.css") { _, _ in HTMLPages.asset(HTMLPages.stylesheet, contentType: "text/css; charset=utf-8") }
        for (name, text) in [
            ("hwreg.js", EmbeddedResource.hwregJS), ("hwreg-setup.js", EmbeddedResource.hwregSetupJS),
            ("hwreg-data.js", EmbeddedResource.hwregDataJS), ("hwreg-field.js", EmbeddedResource.hwregFieldJS),
        ] {
            ui.get(RouterPath("/ui/" + name)) { _, _ in HTMLPages.asset(text, contentType: "text/javascript; charset=utf-8") }
        }
    }

    func page(_ id: String, title: String, current: String) async -> Response {
        let product = await agent.board.product
        var values: [String: Any] = [
            "title": title, "page": id, "hostname": await agent.hostname, "productID": product.productID, "productHex": product.description,
            "login": id == "login",
            "nav": Self.sections.map { ["href": $0.path, "id": $0.id, "label": $0.label, "current": $0.id == current] as [String: Any] },
        ]
        if id == "config" {
            values["fields"] = Self.configFields.map { field in
                [
                    "name": field.name, "label": field.label, "kind": field.kind == "secret" ? "text" : field.kind,
                    "secret": field.kind == "secret", "id": field.name.replacingOccurrences(of: ".", with: "_"),
                ] as [String: Any]
            }
        }
        return pages.response("hwreg-" + id, values)
    }
}
