import Crypto
import Foundation
@_spi(FixedExpiryValidationTime) import X509

/// Zero-touch trust: a board's onboarding certificate counts only when it chains to one of the registry's onboarding
/// roots under RFC 5280 (validity checked at the registry's clock), is for signatures, is no CA, names a serial and
/// carries a P-256 key.
public struct OnboardingVerifier: Sendable {
    /// A verified onboarding certificate: the board's serial and the key its enrollment must be signed with.
    public struct Onboarded: Sendable {
        public let serial: String
        public let publicKey: P256.Signing.PublicKey
    }

    let roots: [Certificate]

    public init(roots: [Certificate]) {
        self.roots = roots
    }

    /// The serial and key of `leaf` when it chains through `intermediates` to a root; otherwise the reasons.
    public func verify(leaf: Certificate, intermediates: [Certificate], at now: Date) async throws(PKIError) -> Onboarded {
        guard !roots.isEmpty else { throw PKIError("no onboarding root is trusted") }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(fixedExpiryValidationTime: now) }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            let leaf = chain.leaf
            guard case .some(.notCertificateAuthority) = try? leaf.extensions.basicConstraints else {
                throw PKIError("the onboarding certificate is a CA certificate")
            }
            guard let usage = try? leaf.extensions.keyUsage, usage.digitalSignature else {
                throw PKIError("the onboarding certificate's key usage does not allow digital signatures")
            }
            guard let serial = OnboardingName.serial(of: leaf) else {
                throw PKIError("the onboarding certificate's subject names no serialNumber")
            }
            guard let key = P256.Signing.PublicKey(leaf.publicKey) else { throw PKIError("the onboarding key is not P-256") }
            return Onboarded(serial: serial, publicKey: key)
        case .couldNotValidate(let failures):
            throw PKIError(failures.map { "\($0.policyFailureReason)" }.joined(separator: "; "))
        }
    }
}
