import EmberCore
import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    public static let xRegistrationKey = Self(FireFlyHeader.registrationKey)!
    public static let visualToken = Self(FireFlyHeader.visualToken)!
    public static let xDeviceUUID = Self(FireFlyHeader.deviceUUID)!
    public static let xDeviceNonce = Self(FireFlyHeader.deviceNonce)!
    public static let xDeviceTimestamp = Self(FireFlyHeader.deviceTimestamp)!
    public static let xDeviceSignature = Self(FireFlyHeader.deviceSignature)!
    public static let xDeviceSignatureVersion = Self(FireFlyHeader.deviceSignatureVersion)!
    public static let xForwardedFor = Self("X-Forwarded-For")!
}

extension Request {
    /// Whether the `Content-Type` is `application/json` (parameters such as `charset` aside).
    public var hasJSONContentType: Bool {
        headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }
}
