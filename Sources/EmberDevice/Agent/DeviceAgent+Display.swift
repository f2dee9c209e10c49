import EmberCore
import Foundation
import Logging

/// The OLED, the visual token's rotation and the event log's clock.
extension DeviceAgent {
    /// Event time: epoch seconds once the clock is synchronized, seconds since boot before.
    public func eventTime() -> Int64 {
        clockSynchronized ? clock.epochSeconds() : Int64(clock.uptime() - bootUptime)
    }

    /// `boot_time` of `/api/mcu`: epoch seconds of the boot once the clock is synchronized, else seconds since boot.
    public func bootTimeValue() -> Int64 {
        clockSynchronized ? bootTime : Int64(clock.uptime() - bootUptime)
    }

    func event(_ level: EventLevel, _ text: String) {
        log.record(level, text, at: eventTime())
        logger.log(level: level == .error ? .error : level == .notify ? .notice : .info, "event: \(text)")
    }

    /// Shows each new token when the old one's minute is over, until the session ends.
    func rotateTokens() async {
        while !Task.isCancelled {
            refreshDisplay()
            let left = tokens.current().secondsLeft
            do { try await clock.sleep(for: max(left, 0.05), on: .tokenRotation) } catch { return }
        }
    }

    /// `FireFly-` and the last three bytes of the Wi-Fi MAC: the display's first line and the web UI's title.
    var hostname: String {
        "FireFly-" + wifiMACTail(bytes: 3)
    }

    /// The last `bytes` bytes of the Wi-Fi MAC in upper-case hex (zeros when the board has none).
    func wifiMACTail(bytes: Int) -> String {
        board.macAddresses[.wifi]?.bytes.suffix(bytes).map { String(format: "%02X", $0) }.joined() ?? String(repeating: "00", count: bytes)
    }

    func refreshDisplay() {
        if displayPage != .status, config.display.timeoutS > 0, clock.uptime() - lastButtonPress >= Double(config.display.timeoutS) {
            displayPage = .status
        }
        let identity = try? board.identity()
        let state: String =
            switch registration {
            case .pending: identity == nil ? "not provisioned" : clockSynchronized ? "checking" : "waiting for NTP"
            case .known(let registered, _, _): registered ? "registered" : "not registered"
            case .failed(let message, _, _): "check failed (\(message))"
            }
        let setup: String? =
            switch provisioning.state {
            case .operational: nil
            case .provisioning: "Setup: waiting for Wi-Fi"
            case .connecting: "Setup: joining Wi-Fi"
            case .validating: "Setup: validating"
            case .claiming: "Setup: claiming"
            case .failed: "Setup failed: \(provisioning.error ?? "-")"
            }
        let cloudLine: String = decommissioned ? "Decommissioned" : setup ?? "Cloud: \(state)"
        // The access point is up while the board has no network.
        let wireLine = networkUp ? "ETH: \(board.macAddresses[.ethernet]?.description ?? "-")" : "AP: \(accessPointSSID ?? "-")"
        let token = "Token: \(tokens.current().token)"
        let lines: [String]
        switch displayPage {
        case .status:
            lines = [
                hostname,
                "IP: \(address)",
                wireLine,
                identity.map { "PID: \($0.productHex.productID)" } ?? "0x\(String(board.product.description.dropFirst(2)))",
                identity.map { "UUID: \(DeviceUUID.format($0.uuid))" } ?? "Unknown UUID",
                token,
                cloudLine,
            ]
        case .network:
            lines = [
                "Page: network",
                "IP: \(address)",
                "WiFi: \(board.macAddresses[.wifi]?.description ?? "-")",
                "SSID: \(config.wifi.ssid.isEmpty ? "-" : config.wifi.ssid)",
                "ETH: \(board.macAddresses[.ethernet]?.description ?? "-")",
                "BT: \(board.macAddresses[.bluetooth]?.description ?? "-")",
                token,
            ]
        case .registration:
            lines = [
                "Page: registration",
                identity.map { "UUID: \(DeviceUUID.format($0.uuid))" } ?? "Unknown UUID",
                cloudLine,
                "URL: \(config.cloud ?? "-")",
                "Fleet: \(config.fleetID.isEmpty ? "-" : config.fleetID)",
                "Region: \(config.region.isEmpty ? "-" : config.region)",
                token,
            ]
        case .events:
            lines = ["Page: events"] + log.events.suffix(5).map { "\($0.level.rawValue.prefix(1).uppercased()) \($0.text)" } + [token]
        }
        board.display(lines.joined(separator: "\n") + "\n")
    }
}

/// The OLED's pages, cycled by a short press of the front-panel button.
public enum DisplayPage: String, Sendable, CaseIterable {
    case status, network, registration, events

    var next: DisplayPage {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
