import EmberCore

/// Zero-touch onboarding's records (lifecycle §6): trusted roots, pre-registrations, enrollments and the device
/// certificates issued for them.
public protocol OnboardingRepository: Sendable {
    /// Adds a root; false when one with this fingerprint is trusted already.
    func addOnboardingRoot(_ root: OnboardingRoot, audit: AuditEvent) async throws -> Bool
    func onboardingRoots() async throws -> [OnboardingRoot]
    /// False when no root has this fingerprint.
    func removeOnboardingRoot(sha256: String, audit: AuditEvent) async throws -> Bool
    /// Adds a pre-registration; false when the serial is pre-registered already.
    func addPreregistration(_ preregistration: Preregistration, audit: AuditEvent) async throws -> Bool
    /// Pre-registrations ordered by serial after `after` (keyset pagination), with the device each enrolled.
    func preregistrations(limit: Int, after: String?) async throws -> [Preregistration]
    /// False when the serial is not pre-registered. An enrollment it led to stays.
    func removePreregistration(serial: String, audit: AuditEvent) async throws -> Bool
    /// Registers a device on the strength of its onboarding certificate, atomically: the pre-registration (when
    /// required), one serial to one device, the device row exactly as a key registration writes it, the device
    /// certificate, the audit row.
    func enroll(_ enrollment: Enrollment, now: Int64, by actor: AuditActor) async throws -> EnrollmentOutcome
    /// The certificate issued for a device's key, if any.
    func deviceCertificate(uuid: String) async throws -> StoredDeviceCertificate?
    /// Stores the certificate for the device's key of `epoch`, replacing an older one.
    func saveDeviceCertificate(_ certificate: StoredDeviceCertificate, audit: AuditEvent) async throws
}

/// What an enrollment asks the store to do.
public struct Enrollment: Sendable {
    public var registration: DeviceRegistration
    /// The serial the verified onboarding certificate names.
    public var serial: String
    /// `--zero-touch allow-list`: the serial must be pre-registered.
    public var requiresPreregistration: Bool
    /// The device certificate for the registration's key, issued before the transaction.
    public var certificatePEM: String
}

/// A device certificate as the registry keeps it.
public struct StoredDeviceCertificate: Sendable, Equatable {
    public var uuid: String
    /// The key epoch the certificate carries.
    public var epoch: Int
    public var pem: String
    public var issuedAt: Int64
}

/// How an enrollment ended; nothing was written unless it is `enrolled` (or a first binding in `alreadyEnrolled`).
public enum EnrollmentOutcome: Sendable, Equatable {
    /// A new device, with this certificate.
    case enrolled(certificatePEM: String)
    /// The same device enrolled with this serial before (or was registered with a key and the same public key):
    /// the certificate it has.
    case alreadyEnrolled(certificatePEM: String)
    /// `allow-list` and no pre-registration for the serial.
    case notPreregistered
    /// The pre-registration names another product.
    case productMismatch(expected: String)
    /// Another device enrolled with this serial.
    case serialTaken
    /// This device enrolled with another serial.
    case deviceHasAnotherSerial
    case conflictingPublicKey
    case decommissioned
}
