import EmberCore
import Hummingbird

/// A failure answered with `status` and the body `{"message": …}` (plus FireFly's `status` field when the failure is
/// about an upstream answer). Both servers render every error through this type.
public struct APIError: HTTPResponseError {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields
    /// The upstream (cloud) status, for a device's 502 about a cloud answer.
    public var upstreamStatus: Int?
    /// Per-field reasons (`{"errors": {field: reason}}`), for a refused configuration.
    public var errors: [String: String]?

    public init(
        status: HTTPResponse.Status,
        message: String,
        headers: HTTPFields = [:],
        upstreamStatus: Int? = nil,
        errors: [String: String]? = nil
    ) {
        self.status = status
        self.message = message
        self.headers = headers
        self.upstreamStatus = upstreamStatus
        self.errors = errors
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(
            ErrorBody(message: message, status: upstreamStatus, errors: errors),
            from: request,
            context: context
        )
        response.status = status
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// The JSON of an error: FireFly's `{"message": …}`, with `status` only when there is an upstream status and
/// `errors` only for per-field reasons.
struct ErrorBody: ResponseEncodable {
    var message: String
    var status: Int?
    var errors: [String: String]?
}
