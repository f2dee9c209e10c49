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

    func refreshDisplay() {
        let identity = try? board.identity()
        let wifi = board.macAddresses[.wifi]?.bytes.suffix(3).map { String(format: "%02X", $0) }.joined() ?? "000000"
        let state: String =
            switch registration {
            case .pending: identity == nil ? "not provisioned" : clockSynchronized ? "checking" : "waiting for NTP"
            case .known(let registered, _, _): registered ? "registered" : "not registered"
            case .failed(let message, _, _): "check failed (\(message))"
            }
        let cloudLine: String = decommissioned ? "Decommissioned" : "Cloud: \(state)"
        let lines: [String] = [
            "FireFly-\(wifi)",
            "IP: \(address)",
            "ETH: \(board.macAddresses[.ethernet]?.description ?? "-")",
            identity.map { "PID: \($0.productHex.productID)" } ?? "0x\(String(board.product.description.dropFirst(2)))",
            identity.map { "UUID: \(DeviceUUID.format($0.uuid))" } ?? "Unknown UUID",
            "Token: \(tokens.current().token)",
            cloudLine,
        ]
        board.display(lines.joined(separator: "\n") + "\n")
    }
}
