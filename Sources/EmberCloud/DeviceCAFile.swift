import EmberPKI
import Foundation

/// The registry's device CA, which signs device certificates: created on first start as one 0600 file holding its
/// certificate and key (instances sharing a database must share the file), read on every later start.
public enum DeviceCAFile {
    /// The default file: `device-ca.private.pem` in the data folder.
    public static func defaultFile(database: String) -> String {
        DataFolder.file("device-ca.private.pem", database: database)
    }

    /// The CA in `file`, created when missing.
    public static func load(file: String, now: Date = Date()) throws -> CertificateAuthority {
        do {
            if !FileManager.default.fileExists(atPath: file) {
                let authority = try CertificateAuthority.root(commonName: "Ember device CA", now: now)
                try PrivateFile.create(file, contents: authority.certificatePEM + authority.keyPEM + "\n")
            }
            let text = try PrivateFile.read(file)
            guard let keyStart = text.range(of: "-----BEGIN PRIVATE KEY-----") else {
                throw PKIError("\(file) holds no PRIVATE KEY block")
            }
            return try CertificateAuthority(certificatePEM: String(text[..<keyStart.lowerBound]), keyPEM: String(text[keyStart.lowerBound...]))
        } catch let error as PrivateFile.Failure {
            throw PKIError("device CA: \(error.description)")
        } catch let error as PKIError {
            throw PKIError("device CA \(file): \(error.description)")
        }
    }
}
