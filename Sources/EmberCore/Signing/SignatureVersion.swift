/// The signed-request scheme named by `X-Device-Signature-Version` (absent means v1).
public enum SignatureVersion: String, Sendable, CaseIterable {
    /// FireFly: signs `nonce bytes ‖ timestamp`.
    case v1 = "1"
    /// Ember: also binds method, path and body hash.
    case v2 = "2"
}
