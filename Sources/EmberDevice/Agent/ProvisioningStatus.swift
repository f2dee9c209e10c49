import EmberCore

/// Where a board's field provisioning stands (`GET /api/provisioning`, lifecycle §7).
public struct ProvisioningStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        /// No Wi-Fi network: the access point is up and the board waits for `PUT /api/provisioning`.
        case provisioning
        /// Joining the Wi-Fi network.
        case connecting
        /// The clock is synchronized; the signed registration check runs.
        case validating
        /// Binding the device to the user's account with the claim token.
        case claiming
        /// On the network and in normal operation (a wired board always is).
        case operational
        /// A step failed (`error` says which and why); the access point is up again.
        case failed
    }

    public var state: State
    /// The access point's SSID, `FireFly-` and the last 4 hex digits of the Wi-Fi MAC; nil on a wired board.
    public var apSSID: String?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case state
        case apSSID = "ap_ssid"
        case error
    }

    public init(state: State = .operational, apSSID: String? = nil, error: String? = nil) {
        self.state = state
        self.apSSID = apSSID
        self.error = error
    }

    /// Every field, `null` included, so a client sees the whole contract.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(state, forKey: .state)
        try container.encode(apSSID, forKey: .apSSID)
        try container.encode(error, forKey: .error)
    }

    /// The steps under way: a new `PUT /api/provisioning` waits for them to end.
    public var inProgress: Bool { [.connecting, .validating, .claiming].contains(state) }
}

/// `PUT /api/provisioning`: the Wi-Fi network, the cloud (default: the configured one) and the user's claim token
/// (without one the device is not bound to an account).
public struct ProvisioningRequest: Codable, Sendable {
    public struct WiFi: Codable, Sendable {
        public var ssid: String?
        /// Nil or empty: an open network.
        public var password: String?

        public init(ssid: String?, password: String?) {
            self.ssid = ssid
            self.password = password
        }
    }

    public var wifi: WiFi?
    public var cloudURL: String?
    public var claimToken: String?

    enum CodingKeys: String, CodingKey {
        case wifi
        case cloudURL = "cloud_url"
        case claimToken = "claim_token"
    }

    public init(wifi: WiFi?, cloudURL: String? = nil, claimToken: String? = nil) {
        self.wifi = wifi
        self.cloudURL = cloudURL
        self.claimToken = claimToken
    }

    /// The request checked: the SSID (1–32 bytes), the password (WPA2's 8–63 printable ASCII, or none), the cloud
    /// URL's rules, the claim token's alphabet. Throws the first problem as the user should fix it.
    func validated(allowInsecureCloud: Bool) throws(AgentFailure) -> (ssid: String, password: String?, cloudURL: String?, claimToken: String?) {
        guard let ssid = wifi?.ssid, !ssid.isEmpty else { throw .invalidInput("Field wifi.ssid is required: the network to join") }
        if let problem = DeviceConfig.ssidProblem(ssid) { throw .invalidInput("Field wifi.ssid \(problem)") }
        let password = wifi?.password.flatMap { $0.isEmpty ? nil : $0 }
        if let password, let problem = DeviceConfig.passwordProblem(password) { throw .invalidInput("Field wifi.password \(problem)") }
        let cloud = cloudURL.flatMap { $0.isEmpty ? nil : $0 }
        if let cloud, let problem = DeviceConfig.cloudURLProblem(cloud, allowInsecure: allowInsecureCloud) {
            throw .invalidInput("Field cloud_url \(problem)")
        }
        var token: String?
        if let claimToken, !claimToken.isEmpty {
            do { token = try ClaimToken.normalized(claimToken) } catch { throw .invalidInput(error.message) }
        }
        return (ssid, password, cloud, token)
    }
}
