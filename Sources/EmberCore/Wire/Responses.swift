/// `{"message": …}`: every error body, and some FireFly success bodies.
public struct MessageBody: Codable, Sendable, Equatable {
    public var message: String

    /// A body with this message.
    public init(message: String) {
        self.message = message
    }
}

/// `200` of the registry's `DELETE /devices/{uuid}/backup`: FireFly's message, and whether a backup was stored.
public struct BackupDeleted: Codable, Sendable, Equatable {
    public var message: String
    /// False when there was nothing to delete (the call still succeeds: FireFly firmware relies on it).
    public var existed: Bool

    public init(existed: Bool) {
        self.message = "Backup deleted"
        self.existed = existed
    }
}

/// `201` of `POST /registration-keys`.
public struct RegistrationKeyCreated: Codable, Sendable, Equatable {
    public var key: String
    /// Unix seconds.
    public var expiresAt: Int64

    enum CodingKeys: String, CodingKey {
        case key
        case expiresAt = "expires_at"
    }

    /// A minted key and its expiry.
    public init(key: String, expiresAt: Int64) {
        self.key = key
        self.expiresAt = expiresAt
    }
}

/// One entry of `GET /registration-keys`.
public struct RegistrationKeyInfo: Codable, Sendable, Equatable {
    public var key: String
    /// Unix seconds.
    public var generatedAt: Int64
    /// Unix seconds.
    public var expiresAt: Int64

    enum CodingKeys: String, CodingKey {
        case key
        case generatedAt = "generated_at"
        case expiresAt = "expires_at"
    }

    /// A key with its mint and expiry times.
    public init(key: String, generatedAt: Int64, expiresAt: Int64) {
        self.key = key
        self.generatedAt = generatedAt
        self.expiresAt = expiresAt
    }
}

/// `POST /registration-keys` with a body: how many keys to mint at once (a fleet's worth, one audit row).
public struct RegistrationKeyBatchRequest: Codable, Sendable {
    /// The most keys one request mints.
    public static let maximumCount = 1_000

    public var count: Int?

    public init(count: Int?) { self.count = count }

    /// The count, or why it is refused.
    public func validated() throws(WireError) -> Int {
        guard let count else { throw WireError("Field count is required: how many keys to mint (1 to \(Self.maximumCount))") }
        guard (1...Self.maximumCount).contains(count) else { throw WireError("Field count must be 1 to \(Self.maximumCount)") }
        return count
    }
}

/// `201` of `POST /registration-keys` with `{"count": N}`: the keys, all with one expiry.
public struct RegistrationKeysCreated: Codable, Sendable, Equatable {
    public var keys: [String]
    /// Unix seconds.
    public var expiresAt: Int64

    enum CodingKeys: String, CodingKey {
        case keys
        case expiresAt = "expires_at"
    }

    public init(keys: [String], expiresAt: Int64) {
        self.keys = keys
        self.expiresAt = expiresAt
    }
}

/// `200` of `GET /registration-keys`.
public struct RegistrationKeyList: Codable, Sendable, Equatable {
    public var registrationKeys: [RegistrationKeyInfo]

    enum CodingKeys: String, CodingKey {
        case registrationKeys = "registration_keys"
    }

    /// A list of keys, oldest first.
    public init(registrationKeys: [RegistrationKeyInfo]) {
        self.registrationKeys = registrationKeys
    }
}

/// `200` of `GET /devices/{uuid}/registration` (FireFly fields).
public struct RegistrationStatus: Codable, Sendable, Equatable {
    public var uuid: String
    public var productID: String
    public var productHex: String
    public var deviceClass: String
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    public var registrationDate: String
    public var registeringApplication: String
    public var registeringVersion: String

    enum CodingKeys: String, CodingKey {
        case uuid
        case productID = "product_id"
        case productHex = "product_hex"
        case deviceClass = "device_class"
        case registrationDate = "registration_date"
        case registeringApplication = "registering_application"
        case registeringVersion = "registering_version"
    }

    /// A status with every field.
    public init(
        uuid: String,
        productID: String,
        productHex: String,
        deviceClass: String,
        registrationDate: String,
        registeringApplication: String,
        registeringVersion: String
    ) {
        self.uuid = uuid
        self.productID = productID
        self.productHex = productHex
        self.deviceClass = deviceClass
        self.registrationDate = registrationDate
        self.registeringApplication = registeringApplication
        self.registeringVersion = registeringVersion
    }
}
