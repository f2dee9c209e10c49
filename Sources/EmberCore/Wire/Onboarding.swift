import Crypto
import Foundation

/// `POST /devices/enroll`'s body (lifecycle §6): the board's onboarding certificate, the intermediates up to a
/// trusted root, and the FireFly registration body.
public struct EnrollmentRequest: Codable, Sendable {
    public var onboardingCertificate: String?
    public var onboardingChain: [String]?
    public var registration: RegistrationRequest?

    enum CodingKeys: String, CodingKey {
        case registration
        case onboardingCertificate = "onboarding_certificate"
        case onboardingChain = "onboarding_chain"
    }

    public init(onboardingCertificate: String, onboardingChain: [String], registration: RegistrationRequest) {
        self.onboardingCertificate = onboardingCertificate
        self.onboardingChain = onboardingChain
        self.registration = registration
    }
}

/// The enrollment's answer, and `GET /devices/{uuid}/certificate`'s: the device certificate and the CA that signed it.
public struct DeviceCertificateReply: Codable, Sendable, Equatable {
    public let deviceCertificate: String
    public let caCertificate: String

    enum CodingKeys: String, CodingKey {
        case deviceCertificate = "device_certificate"
        case caCertificate = "ca_certificate"
    }

    public init(deviceCertificate: String, caCertificate: String) {
        self.deviceCertificate = deviceCertificate
        self.caCertificate = caCertificate
    }
}

/// The onboarding signature of an enrollment: DER ECDSA P-256 by the onboarding key over
/// `EMBER-ENROLL-V1\n<timestamp>\n<nonce b64>\n<hex sha256 of body>`.
public enum OnboardingSignature {
    public static let timestampHeader = "X-Onboarding-Timestamp"
    public static let nonceHeader = "X-Onboarding-Nonce"
    public static let signatureHeader = "X-Onboarding-Signature"

    /// The signed bytes.
    public static func message(timestamp: String, nonceBase64: String, body: Data) -> Data {
        Data("EMBER-ENROLL-V1\n\(timestamp)\n\(nonceBase64)\n\(SigningInput.bodyHash(body))".utf8)
    }

    /// The three headers for `body`, signed now with a fresh 32-byte nonce.
    public static func headers(body: Data, key: P256.Signing.PrivateKey, at timestamp: DeviceTimestamp) throws -> [(String, String)] {
        let nonce = Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
        let signature = try key.signature(for: message(timestamp: timestamp.text, nonceBase64: nonce, body: body))
        return [
            (timestampHeader, timestamp.text),
            (nonceHeader, nonce),
            (signatureHeader, signature.derRepresentation.base64EncodedString()),
        ]
    }

    /// The headers parsed: timestamp, nonce (32 bytes), DER signature; or the message for the client.
    public static func parse(
        timestamp: String?,
        nonce: String?,
        signature: String?
    ) throws(WireError) -> (
        timestamp: DeviceTimestamp, nonce: Data, signature: P256.Signing.ECDSASignature
    ) {
        guard let timestamp, let nonce, let signature else {
            throw WireError("Missing X-Onboarding-Timestamp, X-Onboarding-Nonce or X-Onboarding-Signature header")
        }
        guard let time = DeviceTimestamp(timestamp) else {
            throw WireError("X-Onboarding-Timestamp must be ISO 8601 UTC (e.g. 2025-05-09T12:00:00Z)")
        }
        guard let nonceBytes = Data(base64Encoded: nonce), let der = Data(base64Encoded: signature) else {
            throw WireError("X-Onboarding-Nonce and X-Onboarding-Signature must be valid Base64")
        }
        guard nonceBytes.count == 32 else { throw WireError("X-Onboarding-Nonce must be 32 bytes") }
        guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der) else {
            throw WireError("X-Onboarding-Signature must be a DER ECDSA signature")
        }
        return (time, nonceBytes, parsed)
    }
}

/// `POST /preregistrations`: a serial the registry expects to enroll, and what its record gets.
public struct PreregistrationRequest: Codable, Sendable, Equatable {
    public var serial: String?
    public var productHex: String?
    public var region: String?
    public var fleetID: String?

    enum CodingKeys: String, CodingKey {
        case serial, region
        case productHex = "product_hex"
        case fleetID = "fleet_id"
    }

    public init(serial: String?, productHex: String? = nil, region: String? = nil, fleetID: String? = nil) {
        self.serial = serial
        self.productHex = productHex
        self.region = region
        self.fleetID = fleetID
    }

    /// The checked values (a serial as onboarding certificates carry it; the product as in registrations).
    public func validated() throws(WireError) -> Preregistration {
        guard let serial, !serial.isEmpty else { throw WireError("Field serial is required") }
        if let problem = Preregistration.serialProblem(serial) { throw WireError("Field serial \(problem)") }
        var product: ProductHex?
        if let productHex {
            guard productHex.count == 10, let hex = ProductHex(productHex), hex.value != 0 else { throw WireError("Invalid product_hex, see docs") }
            product = hex
        }
        if let region, let problem = ManufacturingFields.regionProblem(region) { throw WireError("Field region \(problem)") }
        if let fleetID, let problem = ManufacturingFields.fleetIDProblem(fleetID) { throw WireError("Field fleet_id \(problem)") }
        return Preregistration(
            serial: serial,
            productHex: product?.description,
            region: region?.isEmpty == true ? nil : region,
            fleetID: fleetID?.isEmpty == true ? nil : fleetID
        )
    }
}

/// A pre-registration as the registry keeps and shows it.
public struct Preregistration: Codable, Sendable, Equatable {
    public var serial: String
    public var productHex: String?
    public var region: String?
    public var fleetID: String?
    public var createdAt: Int64?
    public var createdBy: String?
    /// The device that enrolled with this serial, once one has.
    public var enrolledUUID: String?
    public var enrolledAt: Int64?

    enum CodingKeys: String, CodingKey {
        case serial, region
        case productHex = "product_hex"
        case fleetID = "fleet_id"
        case createdAt = "created_at"
        case createdBy = "created_by"
        case enrolledUUID = "enrolled_uuid"
        case enrolledAt = "enrolled_at"
    }

    public init(
        serial: String,
        productHex: String?,
        region: String?,
        fleetID: String?,
        createdAt: Int64? = nil,
        createdBy: String? = nil,
        enrolledUUID: String? = nil,
        enrolledAt: Int64? = nil
    ) {
        self.serial = serial
        self.productHex = productHex
        self.region = region
        self.fleetID = fleetID
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.enrolledUUID = enrolledUUID
        self.enrolledAt = enrolledAt
    }

    /// Why a serial is refused: 1 to 64 of `A-Z`, `a-z`, `0-9`, `.`, `_` and `-` (it travels in a PrintableString).
    public static func serialProblem(_ serial: String) -> String? {
        let allowed = serial.unicodeScalars.allSatisfy {
            ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "."
        }
        return (1...64).contains(serial.unicodeScalars.count) && allowed ? nil : "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'"
    }
}

/// A trusted onboarding root as `GET /onboarding-roots` lists it.
public struct OnboardingRoot: Codable, Sendable, Equatable {
    /// Hex SHA-256 of the certificate's DER: the root's name in the API.
    public var sha256: String
    public var subject: String
    public var notAfter: Int64
    public var addedAt: Int64
    public var addedBy: String
    public var pem: String

    enum CodingKeys: String, CodingKey {
        case sha256, subject, pem
        case notAfter = "not_after"
        case addedAt = "added_at"
        case addedBy = "added_by"
    }

    public init(sha256: String, subject: String, notAfter: Int64, addedAt: Int64, addedBy: String, pem: String) {
        self.sha256 = sha256
        self.subject = subject
        self.notAfter = notAfter
        self.addedAt = addedAt
        self.addedBy = addedBy
        self.pem = pem
    }
}

/// `GET /onboarding-roots`.
public struct OnboardingRootList: Codable, Sendable, Equatable {
    public var onboardingRoots: [OnboardingRoot]

    enum CodingKeys: String, CodingKey {
        case onboardingRoots = "onboarding_roots"
    }

    public init(onboardingRoots: [OnboardingRoot]) {
        self.onboardingRoots = onboardingRoots
    }
}

/// `GET /preregistrations`: a page, with the serial to continue after.
public struct PreregistrationPage: Codable, Sendable, Equatable {
    public var preregistrations: [Preregistration]
    public var nextAfter: String?

    enum CodingKeys: String, CodingKey {
        case preregistrations
        case nextAfter = "next_after"
    }

    public init(preregistrations: [Preregistration], nextAfter: String?) {
        self.preregistrations = preregistrations
        self.nextAfter = nextAfter
    }
}
