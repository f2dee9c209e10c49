import Crypto
import Foundation
import SwiftASN1
import X509

/// Why a certificate, key or chain is refused; `description` says what to fix.
public struct PKIError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A P-256 certificate authority: its certificate and its signing key (the factory's onboarding root, or the
/// registry's device CA).
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// Twenty years: a root outlives the boards it signs, and a device certificate outlives its board.
    public static let defaultLifetime: TimeInterval = 20 * 365.25 * 86_400

    /// Refuses a key that is not the certificate's, or a certificate that is not a CA's.
    public init(certificate: Certificate, key: P256.Signing.PrivateKey) throws(PKIError) {
        guard P256.Signing.PublicKey(certificate.publicKey)?.rawRepresentation == key.publicKey.rawRepresentation else {
            throw PKIError("the private key does not belong to the certificate \(certificate.subject)")
        }
        guard case .some(.isCertificateAuthority) = try? certificate.extensions.basicConstraints else {
            throw PKIError("the certificate \(certificate.subject) is not a certificate authority (basicConstraints CA:TRUE)")
        }
        self.certificate = certificate
        self.key = key
    }

    /// Reads a CA from its PEM files' contents.
    public init(certificatePEM: String, keyPEM: String) throws(PKIError) {
        let certificate = try PEMText.certificate(certificatePEM, what: "CA certificate")
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM) else {
            throw PKIError("the CA key is not a P-256 private key in PEM")
        }
        try self.init(certificate: certificate, key: key)
    }

    /// A new self-signed root with a fresh P-256 key.
    public static func root(
        commonName: String,
        organization: String? = nil,
        now: Date,
        lifetime: TimeInterval = defaultLifetime
    ) throws
        -> CertificateAuthority
    {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            if let organization { OrganizationName(organization) }
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600),
            notValidAfter: now.addingTimeInterval(lifetime),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try authorityExtensions(key.publicKey, issuer: key.publicKey),
            issuerPrivateKey: .init(key)
        )
        return try CertificateAuthority(certificate: certificate, key: key)
    }

    /// A CA under this one (a factory line's intermediate), with a fresh key.
    public func intermediate(commonName: String, now: Date, lifetime: TimeInterval = defaultLifetime) throws -> CertificateAuthority {
        let child = P256.Signing.PrivateKey()
        let certificate = try issue(
            subject: try DistinguishedName { CommonName(commonName) },
            publicKey: child.publicKey,
            notBefore: now.addingTimeInterval(-3_600),
            notAfter: now.addingTimeInterval(lifetime),
            extensions: try Self.authorityExtensions(child.publicKey, issuer: key.publicKey)
        )
        return try CertificateAuthority(certificate: certificate, key: child)
    }

    /// A device's onboarding certificate: subject serialNumber = `serial`, for signatures only, not a CA.
    public func issueOnboarding(
        serial: String,
        publicKey: P256.Signing.PublicKey,
        now: Date,
        lifetime: TimeInterval = defaultLifetime
    ) throws
        -> Certificate
    {
        try issue(
            subject: try OnboardingName.subject(serial: serial),
            publicKey: publicKey,
            notBefore: now.addingTimeInterval(-3_600),
            notAfter: now.addingTimeInterval(lifetime),
            extensions: try leafExtensions(publicKey)
        )
    }

    /// A board's onboarding certificate with a fresh key, both in PEM (`ember ca issue`).
    public func issueOnboardingCredentials(serial: String, now: Date) throws -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        return (PEMText.of(try issueOnboarding(serial: serial, publicKey: key.publicKey, now: now)), key.pemRepresentation)
    }

    /// A device certificate: subject CN = the UUID, SAN `urn:uuid:<uuid>`, for client authentication.
    public func issueDevice(
        uuid: String,
        publicKey: P256.Signing.PublicKey,
        now: Date,
        lifetime: TimeInterval = defaultLifetime
    ) throws
        -> Certificate
    {
        try issue(
            subject: try DistinguishedName { CommonName(uuid) },
            publicKey: publicKey,
            notBefore: now.addingTimeInterval(-3_600),
            notAfter: now.addingTimeInterval(lifetime),
            extensions: try leafExtensions(publicKey) {
                SubjectAlternativeNames([.uniformResourceIdentifier("urn:uuid:\(uuid)")])
                try ExtendedKeyUsage([.clientAuth])
            }
        )
    }

    /// Any certificate signed by this CA (tests build broken ones with it: expired, wrong usage).
    public func issue(
        subject: DistinguishedName,
        publicKey: P256.Signing.PublicKey,
        notBefore: Date,
        notAfter: Date,
        extensions: Certificate.Extensions
    ) throws -> Certificate {
        try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(publicKey),
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: .init(key)
        )
    }

    /// The extensions of a leaf for signatures (not a CA), with `more` after them.
    public func leafExtensions(
        _ publicKey: P256.Signing.PublicKey,
        @ExtensionsBuilder more: () throws -> Result<Certificate.Extensions, any Error> = { .success(Certificate.Extensions()) }
    ) throws -> Certificate.Extensions {
        var extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            SubjectKeyIdentifier(hash: Certificate.PublicKey(publicKey))
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey)).keyIdentifier)
        }
        for item in try more().get() { try extensions.append(item) }
        return extensions
    }

    static func authorityExtensions(_ publicKey: P256.Signing.PublicKey, issuer: P256.Signing.PublicKey) throws -> Certificate.Extensions {
        try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: Certificate.PublicKey(publicKey))
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: Certificate.PublicKey(issuer)).keyIdentifier)
        }
    }

    /// The certificate's subject, as text.
    public var subject: String { "\(certificate.subject)" }

    /// The hex SHA-256 of the certificate's DER.
    public var fingerprint: String { PEMText.fingerprint(certificate) }

    /// The certificate in PEM.
    public var certificatePEM: String { PEMText.of(certificate) }

    /// The private key in PKCS #8 PEM: write it 0600.
    public var keyPEM: String { key.pemRepresentation }
}
