/// The purposes a device derives keys for; the raw value is the HKDF `info` label.
public enum KeyPurpose: String, CaseIterable, Sendable {
    /// The P-256 identity scalar that signs cloud requests.
    case auth = "firefly-auth-v1"
    /// The AES-256-GCM key of cloud backups.
    case backup = "firefly-backup-v1"
    /// The AES-256-GCM key of files on the config partition.
    case configfs = "firefly-configfs-v1"
}
