import EmberCore
import EmberHTTP
import Hummingbird

/// How the registry's domain errors become responses.
extension APIError {
    init(_ error: RegistryError) {
        switch error {
        case .badRequest(let message): self.init(status: .badRequest, message: message)
        case .unauthorized(let message): self.init(status: .unauthorized, message: message)
        case .forbidden(let message): self.init(status: .forbidden, message: message)
        case .notFound(let message): self.init(status: .notFound, message: message)
        case .conflict(let message): self.init(status: .conflict, message: message)
        case .gone(let message): self.init(status: .gone, message: message)
        case .payloadTooLarge(let message): self.init(status: .contentTooLarge, message: message)
        case .unsupportedMediaType(let message): self.init(status: .unsupportedMediaType, message: message)
        case .unavailable(let message, let retryAfter):
            self.init(status: .serviceUnavailable, message: message, headers: [.retryAfter: String(retryAfter)])
        case .tooManyRequests(let message, let retryAfter):
            self.init(status: .tooManyRequests, message: message, headers: [.retryAfter: String(retryAfter)])
        }
    }

    init(_ failure: DeviceAuthError) {
        let status: HTTPResponse.Status =
            switch failure {
            case .missingHeaders, .invalidBase64, .nonceLength, .invalidTimestamp, .unsupportedVersion: .badRequest
            case .uuidMismatch: .forbidden
            case .unknownDevice, .outsideWindow, .badSignature, .nonceReused, .signatureVersionRequired, .signatureVersion2Required: .unauthorized
            }
        self.init(status: status, message: failure.message)
    }

    /// The registry's mapping for `ErrorRenderingMiddleware`: its domain errors, nil for others.
    static func registry(_ error: any Error) -> APIError? {
        switch error {
        case let error as RegistryError: APIError(error)
        case let failure as DeviceAuthError: APIError(failure)
        default: nil
        }
    }
}
