import ArgumentParser
import EmberCloud
import EmberPKI
import Foundation

/// `ember ca …`: the factory's onboarding PKI (lifecycle §6).
struct CA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "The factory's onboarding PKI: a root, and one onboarding certificate per board.",
        subcommands: [Init.self, Issue.self]
    )

    static let certificateFile = "onboarding-root.cert.pem"
    static let keyFile = "onboarding-root.key.pem"

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an onboarding root (P-256) in a new folder; its key is written 0600.",
            discussion: "Give the registry the certificate: ember onboarding add-root DIR/\(CA.certificateFile)"
        )
        @Option(help: "The folder to create the root in.") var dir: String
        @Option(help: "The root's common name.") var name = "Ember onboarding root"
        @Option(help: "The root's organization.") var organization: String?

        func run() throws {
            let folder = URL(fileURLWithPath: dir)
            let certificate = folder.appendingPathComponent(CA.certificateFile).path
            guard !FileManager.default.fileExists(atPath: certificate) else {
                throw ValidationError("\(certificate) exists: this folder holds a root already")
            }
            let root = try CertificateAuthority.root(commonName: name, organization: organization, now: Date())
            try PrivateFile.create(folder.appendingPathComponent(CA.keyFile).path, contents: root.keyPEM)
            try Data(root.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificate), options: .withoutOverwriting)
            print("Created the onboarding root \(root.subject) in \(dir)")
            print("  certificate  \(certificate)  (sha256 \(root.fingerprint))")
            print("  key          \(folder.appendingPathComponent(CA.keyFile).path)  (0600: keep it offline)")
            print("Trust it in the registry with: ember onboarding add-root \(certificate)")
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a board's onboarding certificate and key (subject serialNumber = SN).",
            discussion: "Writes onboard.cert.pem and onboard.key.pem (0600) for: ember device init … --onboarding DIR"
        )
        @Option(help: "The root's folder (from ember ca init).") var ca: String
        @Option(help: "The board's serial: 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'.") var serial: String
        @Option(help: "The folder to write the board's files to (created).") var out: String

        func run() throws {
            let folder = URL(fileURLWithPath: ca)
            let authority: CertificateAuthority
            do {
                authority = try CertificateAuthority(
                    certificatePEM: try String(contentsOf: folder.appendingPathComponent(CA.certificateFile), encoding: .utf8),
                    keyPEM: try PrivateFile.read(folder.appendingPathComponent(CA.keyFile).path)
                )
            } catch let error as CocoaError {
                throw ValidationError("cannot read the root in \(ca): \(error.localizedDescription) (create one with ember ca init --dir \(ca))")
            }
            let credentials = try authority.issueOnboardingCredentials(serial: serial, now: Date())
            let output = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let certificateFile = output.appendingPathComponent("onboard.cert.pem")
            guard try PrivateFile.create(output.appendingPathComponent("onboard.key.pem").path, contents: credentials.keyPEM) else {
                throw ValidationError("\(output.appendingPathComponent("onboard.key.pem").path) exists: issue into an empty folder")
            }
            try Data(credentials.certificatePEM.utf8).write(to: certificateFile)
            print("Issued the onboarding certificate of serial \(serial) in \(out) (onboard.cert.pem, onboard.key.pem 0600)")
        }
    }
}
