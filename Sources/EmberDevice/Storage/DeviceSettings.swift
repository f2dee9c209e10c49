import EmberCore
import Foundation

/// The device config on the config partition (`device.json`): where the cloud is.
public struct DeviceSettings: Codable, Sendable, Equatable {
    static let file = "device.json"

    /// The cloud's base URL, e.g. `https://registry.example.com`.
    public var cloudAPIRoot: String?
    /// Seconds between automatic cloud backups (default 86,400).
    public var cloudBackupIntervalSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case cloudAPIRoot = "cloud_api_root"
        case cloudBackupIntervalSeconds = "cloud_backup_interval_seconds"
    }

    public init(cloudAPIRoot: String? = nil, cloudBackupIntervalSeconds: Double? = nil) {
        self.cloudAPIRoot = cloudAPIRoot
        self.cloudBackupIntervalSeconds = cloudBackupIntervalSeconds
    }

    /// Whether `url` is an `http` or `https` URL with a host.
    public static func isValidCloudURL(_ url: String) -> Bool {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty
        else { return false }
        return true
    }

    /// The settings stored on `partition`; defaults when none are stored or the file is damaged.
    public static func load(from partition: ConfigPartition) -> DeviceSettings {
        guard let data = try? partition.read(file), let settings = try? JSONDecoder().decode(DeviceSettings.self, from: data) else {
            return DeviceSettings()
        }
        return settings
    }

    /// Stores the settings on `partition`.
    public func save(to partition: ConfigPartition) throws(HardwareError) {
        do {
            try partition.write(Self.file, try JSONEncoder().encode(self))
        } catch let error as HardwareError {
            throw error
        } catch {
            throw .storage("cannot encode the device settings: \(error)")
        }
    }
}
