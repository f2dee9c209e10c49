import Foundation

/// Limits and texts of the backup routes.
public enum BackupLimits {
    /// Largest plaintext a device backs up: 512 KiB.
    public static let maxPlaintext = 512 * 1024
    /// Largest blob the cloud accepts: the plaintext limit plus the FFCE header.
    public static let maxBlob = maxPlaintext + FFCEContainer.headerLength
}

/// A stored backup as the admin API shows it (never the blob).
public struct BackupInfo: Codable, Sendable, Equatable {
    /// SHA-256 hex of the plaintext, as the device sent it ("" when it sent none).
    public var etag: String
    /// Bytes of the encrypted blob.
    public var size: Int64
    /// Unix seconds.
    public var lastBackupDate: Int64

    enum CodingKeys: String, CodingKey {
        case etag, size
        case lastBackupDate = "last_backup_date"
    }

    public init(etag: String, size: Int64, lastBackupDate: Int64) {
        self.etag = etag
        self.size = size
        self.lastBackupDate = lastBackupDate
    }
}

/// `200` of `POST /devices/{uuid}/backup`.
public struct BackupStored: Codable, Sendable, Equatable {
    public var message: String
    /// ISO 8601 UTC, FireFly's form.
    public var lastBackupDate: String

    enum CodingKeys: String, CodingKey {
        case message
        case lastBackupDate = "last_backup_date"
    }

    public init(message: String = "Backup stored", lastBackupDate: String) {
        self.message = message
        self.lastBackupDate = lastBackupDate
    }
}

/// ETag header values: the SHA-256 hex of a backup's plaintext, quoted on the wire (RFC 7232).
public enum BackupETag {
    /// The ETag of a plaintext: lower-case SHA-256 hex.
    public static func of(_ plaintext: Data) -> String {
        SigningInput.bodyHash(plaintext)
    }

    /// A header value without its quotes (and without a weak `W/` prefix); nil unless 64 hex digits remain.
    public static func parse(_ header: String) -> String? {
        var text = header.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("W/") { text.removeFirst(2) }
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
        guard text.count == 64, text.utf8.allSatisfy({ Hex.nibble($0) != nil }) else { return nil }
        return text.lowercased()
    }

    /// The quoted header form.
    public static func quoted(_ etag: String) -> String { "\"\(etag)\"" }
}
