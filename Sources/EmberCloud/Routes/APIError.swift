import EmberCore
import Hummingbird

/// A failure the client can fix: a 4xx (or the generic 500) with the body `{"message": …}`.
public struct APIError: HTTPResponseError {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    init(_ error: RegistryError) {
        switch error {
        case .badRequest(let message): self.init(status: .badRequest, message: message)
        case .unauthorized(let message): self.init(status: .unauthorized, message: message)
        case .forbidden(let message): self.init(status: .forbidden, message: message)
        case .notFound(let message): self.init(status: .notFound, message: message)
        case .conflict(let message): self.init(status: .conflict, message: message)
        case .payloadTooLarge(let message): self.init(status: .contentTooLarge, message: message)
        case .unsupportedMediaType(let message): self.init(status: .unsupportedMediaType, message: message)
        case .tooManyRequests(let message, let retryAfter):
            self.init(status: .tooManyRequests, message: message, headers: [.retryAfter: String(retryAfter)])
        }
    }

    init(_ failure: DeviceAuthenticator.Failure) {
        let status: HTTPResponse.Status =
            switch failure.reason {
            case .missingHeaders, .invalidBase64, .nonceLength, .invalidTimestamp, .unsupportedVersion: .badRequest
            case .uuidMismatch: .forbidden
            case .unknownDevice: failure.unknownDeviceIsNotFound ? .notFound : .unauthorized
            case .outsideWindow, .badSignature, .nonceReused, .signatureVersionRequired: .unauthorized
            }
        self.init(status: status, message: failure.reason.message)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(MessageBody(message: message), from: request, context: context)
        response.status = status
        response.headers.append(contentsOf: headers)
        return response
    }
}
