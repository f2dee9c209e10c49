/// EVE's zero-touch files on the config partition (lifecycle §6), put there by `ember device init --onboarding`.
enum OnboardingFiles {
    /// The cloud's URL.
    static let server = "server"
    static let certificate = "onboard.cert.pem"
    static let key = "onboard.key.pem"
    /// The only roots trusted for the cloud's HTTPS certificate, when present.
    static let rootCertificate = "root-certificate.pem"
    /// The device certificate the registry issued at enrollment.
    static let deviceCertificate = "device.cert.pem"
    /// Intermediates between the onboarding certificate and its root, when the factory has any.
    static let chain = "onboard.chain.pem"

    /// What `--onboarding DIR` copies, and whether each is required.
    static let copied: [(name: String, required: Bool)] = [(certificate, true), (key, true), (chain, false), (rootCertificate, false)]
}
