/// A request the registry refuses, by kind; the routes turn each kind into its 4xx status.
public enum RegistryError: Error, Equatable, Sendable {
    case badRequest(String)
    case unauthorized(String)
    case forbidden(String)
    case notFound(String)
    case conflict(String)
    /// The device was decommissioned (410).
    case gone(String)
    case payloadTooLarge(String)
    case unsupportedMediaType(String)
    case tooManyRequests(String, retryAfter: Int64)
    /// The request was fine but could not be decided now (503 with `Retry-After`); retrying it is safe.
    case unavailable(String, retryAfter: Int64)

    /// The `{"message": …}` text.
    public var message: String {
        switch self {
        case .badRequest(let message), .unauthorized(let message), .forbidden(let message), .notFound(let message),
            .conflict(let message), .gone(let message), .payloadTooLarge(let message), .unsupportedMediaType(let message),
            .tooManyRequests(let message, _), .unavailable(let message, _):
            message
        }
    }
}

extension RegistryError: CustomStringConvertible {
    public var description: String { message }
}

extension RegistryError {
    /// 410 on a decommissioned device's signed routes and admin actions.
    static let decommissioned = RegistryError.gone("Device decommissioned")
}
