import Crypto
import EmberCore
import Foundation
import SwiftASN1
import X509

/// PEM in and out, with errors that name what was expected.
public enum PEMText {
    /// The PEM of a certificate.
    public static func of(_ certificate: Certificate) -> String {
        ((try? certificate.serializeAsPEM().pemString) ?? "") + "\n"
    }

    /// One certificate from its PEM; `what` names it in the error.
    public static func certificate(_ pem: String, what: String) throws(PKIError) -> Certificate {
        do {
            return try Certificate(pemEncoded: pem.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw PKIError("the \(what) is not a PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
    }

    /// Every certificate of a PEM bundle, in order.
    public static func certificates(_ pem: String, what: String) throws(PKIError) -> [Certificate] {
        let documents: [PEMDocument]
        do { documents = try PEMDocument.parseMultiple(pemString: pem) } catch { throw PKIError("the \(what) is not PEM") }
        var certificates: [Certificate] = []
        for document in documents {
            guard document.discriminator == "CERTIFICATE", let certificate = try? Certificate(derEncoded: document.derBytes) else {
                throw PKIError("the \(what) holds a \(document.discriminator) where a CERTIFICATE was expected")
            }
            certificates.append(certificate)
        }
        guard !certificates.isEmpty else { throw PKIError("the \(what) holds no PEM certificate (-----BEGIN CERTIFICATE-----)") }
        return certificates
    }

    /// The hex SHA-256 of a certificate's DER: how the registry names a root.
    public static func fingerprint(_ certificate: Certificate) -> String {
        var serializer = DER.Serializer()
        try? serializer.serialize(certificate)
        return SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
    }
}

/// How an onboarding certificate names its board: the subject's serialNumber attribute (2.5.4.5).
public enum OnboardingName {
    static let serialNumberOID: ASN1ObjectIdentifier = [2, 5, 4, 5]

    static func subject(serial: String) throws -> DistinguishedName {
        if let problem = Preregistration.serialProblem(serial) { throw PKIError("the serial \(problem)") }
        return DistinguishedName([RelativeDistinguishedName(try .init(type: serialNumberOID, printableString: serial))])
    }

    /// The serial a certificate's subject names, if any.
    public static func serial(of certificate: Certificate) -> String? {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == serialNumberOID {
                if let text = String(attribute.value), Preregistration.serialProblem(text) == nil { return text }
            }
        }
        return nil
    }
}
