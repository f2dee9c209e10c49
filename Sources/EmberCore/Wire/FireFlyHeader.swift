/// The header names of the FireFly protocol and Ember's additions, defined once for servers and clients.
public enum FireFlyHeader {
    /// The single-use key of `POST /devices/register` (and the HW-Reg registration).
    public static let registrationKey = "X-Registration-Key"
    /// The token on the device's OLED, sent to the HW-Reg API.
    public static let visualToken = "visual-token"
    /// The signed-request headers.
    public static let deviceUUID = "X-Device-UUID"
    public static let deviceNonce = "X-Device-Nonce"
    public static let deviceTimestamp = "X-Device-Timestamp"
    public static let deviceSignature = "X-Device-Signature"
    /// Ember's v2 signature marker.
    public static let deviceSignatureVersion = "X-Device-Signature-Version"
    /// The standard headers the backup protocol relies on.
    public static let contentType = "Content-Type"
    public static let eTag = "ETag"
    public static let ifNoneMatch = "If-None-Match"
}
