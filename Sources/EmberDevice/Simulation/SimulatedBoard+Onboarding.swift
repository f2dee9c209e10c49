import Foundation

extension SimulatedBoard {
    /// Puts a board's zero-touch files on its config partition, as the factory does (EVE's names):
    /// `onboard.cert.pem` and `onboard.key.pem` from `folder` (`ember ca issue`), `onboard.chain.pem` and
    /// `root-certificate.pem` when `folder` has them (or `rootCertificate` names one), and `server`: the cloud URL.
    public func installOnboarding(from folder: URL, server: String, rootCertificate: URL? = nil) throws(HardwareError) {
        var files: [(String, Data)] = []
        for (name, required) in OnboardingFiles.copied {
            let source = name == OnboardingFiles.rootCertificate && rootCertificate != nil ? rootCertificate! : folder.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: source.path) else {
                if required { throw .storage("\(source.path) is missing: issue the board's files with `ember ca issue --out \(folder.path)`") }
                continue
            }
            guard String(decoding: data, as: UTF8.self).contains("-----BEGIN ") else { throw .storage("\(source.path) is not PEM") }
            files.append((name, data))
        }
        files.append((OnboardingFiles.server, Data((server + "\n").utf8)))
        for (name, data) in files { try config.write(name, data) }
    }
}
