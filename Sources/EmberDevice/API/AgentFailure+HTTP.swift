import EmberHTTP
import HTTPTypes
import Hummingbird

/// The one place an agent failure becomes a status and FireFly's message.
extension APIError {
    init(_ failure: AgentFailure) {
        switch failure {
        case .notProvisioned: self.init(status: .conflict, message: "Device identity not provisioned")
        case .alreadyProvisioned: self.init(status: .conflict, message: HardwareError.alreadyProvisioned.description)
        case .clockNotSynchronized: self.init(status: .serviceUnavailable, message: "Clock not synchronized")
        case .backupNeedsIdentity: self.init(status: .conflict, message: "Device not provisioned")
        case .backupNeedsRegistration: self.init(status: .conflict, message: "Device not registered with the cloud")
        case .backupNeedsCloud: self.init(status: .conflict, message: "No cloud configured; register the device first")
        case .registrationInProgress: self.init(status: .conflict, message: "Registration already in progress")
        case .registrationCheckPending: self.init(status: .serviceUnavailable, message: "Registration check pending")
        case .registrationCheckFailed(let message): self.init(status: .badGateway, message: message)
        case .invalidInput(let message): self.init(status: .badRequest, message: message)
        case .notFound(let message): self.init(status: .notFound, message: message)
        case .tooLarge(let message): self.init(status: .contentTooLarge, message: message)
        case .keyRefused: self.init(status: .forbidden, message: "Invalid or expired registration key")
        case .cloudRefused(let call, let status, let message): self.init(call, refusedWith: status, message: message)
        case .cloudUnreachable(.registration, retrying: true):
            self.init(status: .badGateway, message: "Cloud registration request failed: cloud unreachable or busy; the device keeps retrying")
        case .cloudUnreachable: self.init(status: .badGateway, message: "Cloud unreachable")
        case .backupUndecryptable:
            self.init(
                status: .badGateway,
                message: "The cloud's backup does not decrypt with this device's key (damaged, or made by another device)"
            )
        case .decommissioned: self.init(status: .conflict, message: "Device decommissioned")
        case .rotationInProgress: self.init(status: .conflict, message: "Key rotation already in progress")
        case .rotationNeedsRegistration: self.init(status: .conflict, message: "Device not registered with the cloud")
        case .invalidConfiguration(let errors): self.init(status: .badRequest, message: "Invalid configuration", errors: errors)
        case .configFromNewerFirmware(let version):
            self.init(
                status: .conflict,
                message: "The stored configuration is from a newer firmware (schema_version \(version)); flash that firmware again or factory-reset"
            )
        case .factoryChecksFailed(let failed):
            self.init(
                status: .conflict,
                message: "Factory checks failed",
                errors: Dictionary(failed.map { ($0, "failed") }, uniquingKeysWith: { first, _ in first })
            )
        case .confirmationRequired(let message), .provisioningRefused(let message): self.init(status: .conflict, message: message)
        case .hardware(let error): self.init(error)
        case .visualToken(let decision): self.init(decision)
        }
    }

    private init(_ call: AgentFailure.CloudCall, refusedWith status: Int, message: String) {
        let text =
            switch call {
            case .registration: "Cloud registration request failed: \(message)"
            case .backupUpload: "Cloud refused the backup (HTTP \(status))"
            case .backupFetch: "Cloud returned unexpected response (HTTP \(status))"
            case .backupDelete: "Cloud returned unexpected status (HTTP \(status))"
            case .keyRotation: "Cloud refused the new key (HTTP \(status)): \(message)"
            }
        self.init(status: .badGateway, message: text, upstreamStatus: call == .registration ? nil : status)
    }

    /// A local failure: a fixed text per kind, never a path or an error description.
    private init(_ error: HardwareError) {
        switch error {
        case .notProvisioned: self.init(status: .conflict, message: "Device identity not provisioned")
        case .alreadyProvisioned: self.init(status: .conflict, message: error.description)
        case .efuseWriteFailed: self.init(status: .internalServerError, message: "Error during eFuse write")
        case .storage: self.init(status: .internalServerError, message: "Device storage failure")
        case .keyDerivationFailed, .encryptionFailed: self.init(status: .internalServerError, message: error.description)
        }
    }

    private init(_ decision: VisualTokens.Decision) {
        switch decision {
        case .accepted, .missing:
            self.init(status: .unauthorized, message: "Missing visual-token header: send the token shown on the device's display")
        case .wrong:
            self.init(status: .unauthorized, message: "Wrong or expired visual token: send the token shown on the device's display now")
        case .limited(let retryAfter):
            self.init(
                status: .tooManyRequests,
                message: "Too many wrong visual tokens; try again in \(retryAfter) s",
                headers: [.retryAfter: String(retryAfter)]
            )
        }
    }

    /// The device API's mapping for `ErrorRenderingMiddleware`; local failures are logged there as 500s.
    static func agent(_ error: any Error) -> APIError? {
        (error as? AgentFailure).map(APIError.init)
    }
}
