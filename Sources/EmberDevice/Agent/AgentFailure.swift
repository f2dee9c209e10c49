/// Why the agent could not do what it was asked. The HTTP layer maps each case to a status and FireFly's
/// message in one place (`AgentFailure+HTTP.swift`); the values carry no file paths or error descriptions.
public enum AgentFailure: Error, Equatable, Sendable {
    /// A cloud call the agent makes.
    public enum CloudCall: String, Sendable {
        case registration, backupUpload, backupFetch, backupDelete, keyRotation
    }

    /// No identity is burned yet.
    case notProvisioned
    /// The identity is burned; eFuse cannot be rewritten.
    case alreadyProvisioned
    /// NTP has not answered yet; nothing time-stamped can be signed.
    case clockNotSynchronized
    /// Cloud backup needs a burned identity.
    case backupNeedsIdentity
    /// Cloud backup needs a device the cloud has not said is unregistered.
    case backupNeedsRegistration
    /// Cloud backup needs a cloud URL in the device config.
    case backupNeedsCloud
    /// A registration is already running.
    case registrationInProgress
    /// The session's registration check has not answered yet.
    case registrationCheckPending
    /// The last registration check failed with this (cloud-facing) message.
    case registrationCheckFailed(String)
    /// The request is wrong in a way the caller can fix; the text says how.
    case invalidInput(String)
    /// What was asked for does not exist; the text says what.
    case notFound(String)
    /// The request body is over a limit; the text says which.
    case tooLarge(String)
    /// The cloud refused the registration key.
    case keyRefused
    /// The cloud answered `status` to `call`, with `message` when it sent one.
    case cloudRefused(CloudCall, status: Int, message: String)
    /// The cloud could not be reached for `call`; `retrying` when the agent keeps trying in the background.
    case cloudUnreachable(CloudCall, retrying: Bool)
    /// The cloud's backup does not decrypt with this device's backup key.
    case backupUndecryptable
    /// The board failed locally (eFuse, config partition, key derivation); never reported as a cloud failure.
    case hardware(HardwareError)
    /// The device is decommissioned: it stays in the factory state and cannot register again.
    case decommissioned
    /// A key rotation is already running.
    case rotationInProgress
    /// The device is not registered with a cloud, so there is no one to tell about a new key.
    case rotationNeedsRegistration
    /// A configuration change was refused: the reason per field (dotted names).
    case invalidConfiguration([String: String])
    /// The stored configuration is from a newer firmware (this schema version); it is not overwritten.
    case configFromNewerFirmware(Int)
    /// The last factory test failed (these checks); registration needs `force`.
    case factoryChecksFailed([String])
    /// The change needs the device's UUID as confirmation; the text says how.
    case confirmationRequired(String)
    /// Field provisioning cannot start now (a wired board, steps under way, already operational, no network).
    case provisioningRefused(String)
    /// No or the wrong visual token.
    case visualToken(VisualTokens.Decision)
}
