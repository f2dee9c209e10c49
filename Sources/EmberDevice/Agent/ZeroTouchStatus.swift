/// Where a board's zero-touch enrollment stands (`GET /api/zero-touch`).
public struct ZeroTouchStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// No onboarding files on the config partition: registration is by key (the manual flow).
        case off
        /// Trying: the registry has not enrolled the board yet (not pre-registered, down, unreachable).
        case enrolling
        /// `device.cert.pem` is saved.
        case enrolled
        /// The registry refused the onboarding certificate or signature (401) or the enrollment (409): the agent
        /// stopped until the next boot.
        case failed
    }

    public var state: State = .off
    /// The serial the onboarding certificate names.
    public var serial: String?
    /// Enrollment rounds this boot.
    public var attempts = 0
    /// The last answer or problem.
    public var message: String?
    /// The device certificate's subject and expiry (Unix seconds), once enrolled.
    public var certificateSubject: String?
    public var certificateNotAfter: Int64?

    enum CodingKeys: String, CodingKey {
        case state, serial, attempts, message
        case certificateSubject = "certificate_subject"
        case certificateNotAfter = "certificate_not_after"
    }

    public init() {}
}
