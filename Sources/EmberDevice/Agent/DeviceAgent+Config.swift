import EmberCore
import Foundation
import Logging

/// The versioned configuration (lifecycle §4): the boot-time load, validated changes with their history.
extension DeviceAgent {
    /// The configuration files of this session's board, with the firmware's defaults.
    var configStore: ConfigStore {
        var store = ConfigStore(partition: board.config, defaults: DeviceConfig(cloudURL: board.defaultCloudURL))
        store.allowInsecureCloud = configuration.allowInsecureCloud
        return store
    }

    /// At boot: loads (or migrates) the configuration, and says so when the file could not be used.
    func loadConfig() async {
        let store = configStore
        let now = eventTime()
        configRefusedVersion = nil
        do {
            let (loaded, outcome) = try await offload { () throws(HardwareError) in try store.load(now: now) }
            config = loaded
            switch outcome {
            case .firstBoot, .loaded:
                break
            case .migrated(let version):
                event(.info, "Config migrated")
                logger.notice(
                    "configuration migrated",
                    metadata: ["ember.config.from": "\(version)", "ember.config.to": "\(DeviceConfig.schemaVersion)"]
                )
            case .invalid(let reason, let restored):
                event(.error, "Config invalid")
                logger.error(
                    "configuration refused; kept as \(ConfigStore.refused)",
                    metadata: ["ember.reason": "\(reason)", "ember.config.using": "\(restored ? "last-known-good" : "defaults")"]
                )
            case .future(let version, let restored):
                configRefusedVersion = version
                event(.error, "Config invalid")
                logger.error(
                    "configuration is from a newer firmware; left untouched",
                    metadata: ["ember.config.version": "\(version)", "ember.config.using": "\(restored ? "last-known-good" : "defaults")"]
                )
            }
        } catch {
            config = store.defaults
            event(.error, "Config invalid")
            logger.error("configuration could not be loaded; using the defaults", metadata: ["ember.error": "\(error)"])
        }
    }

    /// `GET /api/config`: the configuration without secrets, and the hash of its file.
    public func currentConfig() -> (config: DeviceConfig, hash: String) {
        (config, config.hash)
    }

    /// `GET /api/config/history`, newest first.
    public func configHistory() -> [ConfigChange] {
        configStore.history()
    }

    /// Applies a JSON merge patch (RFC 7386) from `source`: every field validated, nothing written on an error. A
    /// local change of a registered device's `cloud_url` needs `confirmation`, the device's UUID typed again: the
    /// visual token alone must not move a registered device to another registry.
    @discardableResult
    public func updateConfig(
        _ patch: JSONValue,
        source: ConfigChange.Source,
        confirmation: String? = nil
    ) async throws(AgentFailure)
        -> DeviceConfig
    {
        guard case .object(let changes) = patch else { throw .invalidInput("The configuration change must be a JSON object (a merge patch)") }
        var editable = config.stored
        if case .object(var wifi)? = editable["wifi"] {
            wifi.removeValue(forKey: "password_sealed")
            editable["wifi"] = .object(wifi)
        }
        guard case .object(let merged) = JSONValue.object(editable).merging(patch: patch) else {
            throw .invalidInput("The configuration change must be a JSON object (a merge patch)")
        }
        var next: DeviceConfig
        let password: String?
        do {
            (next, password) = try DeviceConfig.parse(
                merged,
                as: .patch,
                defaults: configStore.defaults,
                allowInsecureCloud: configuration.allowInsecureCloud
            )
        } catch {
            throw .invalidConfiguration(error.fields)
        }
        if source == .local, next.cloudURL != config.cloudURL, case .known(registered: true, _, _) = registration,
            let identity = try? board.identity(), confirmation.flatMap(DeviceUUID.parse) != identity.uuid
        {
            throw .confirmationRequired("cloud_url of a registered device changes only with ?confirm=<this device's UUID>")
        }
        // The sealed password stays unless the patch sets or removes it (directly, or with the whole `wifi`).
        next.wifi.sealedPassword = config.wifi.sealedPassword
        if case .object(let wifi)? = changes["wifi"] {
            if wifi["password"] == .null { next.wifi.sealedPassword = nil }
        } else if changes["wifi"] == .null {
            next.wifi.sealedPassword = nil
        }
        if let password {
            guard let sealed = try? seal(Data(password.utf8)) else {
                throw .invalidConfiguration(["wifi.password": "cannot be sealed before the device identity is provisioned"])
            }
            next.wifi.sealedPassword = sealed.base64EncodedString()
        }
        let moved = next.cloudURL != config.cloudURL
        try await apply(next, source: source)
        if moved {
            event(.notify, "Cloud URL changed")
            logger.notice("cloud URL changed", metadata: ["ember.config.source": "\(source.rawValue)", "ember.cloud": "\(next.cloudURL)"])
        }
        return next
    }

    /// Writes `next` when it differs from the configuration in force, with its event and history entry.
    func apply(_ next: DeviceConfig, source: ConfigChange.Source) async throws(AgentFailure) {
        if let version = configRefusedVersion, source != .reset { throw .configFromNewerFirmware(version) }
        let fields = next.changedFields(from: config)
        guard !fields.isEmpty || source == .reset else { return }
        let change = ConfigChange(time: eventTime(), source: source, fields: fields, oldHash: config.hash, newHash: next.hash)
        let store = configStore
        let board = self.board
        try await offload { () throws(HardwareError) in try store.save(next, change: change) { board.checkpoint($0) } }
        config = next
        configRefusedVersion = nil
        log.resolve("Config invalid")
        event(.info, "Config changed")
        logger.notice(
            "configuration changed",
            metadata: ["ember.config.source": "\(source.rawValue)", "ember.config.fields": "\(fields.joined(separator: ","))"]
        )
        refreshDisplay()
    }

    /// Saves a new cloud URL (a registration's, or `--cloud` at start-up) as a local change.
    func saveCloudRoot(_ root: String) async throws(AgentFailure) {
        guard config.cloudURL != root else { return }
        if let problem = DeviceConfig.cloudURLProblem(root, allowInsecure: configuration.allowInsecureCloud) {
            throw .invalidConfiguration(["cloud_url": problem])
        }
        var next = config
        next.cloudURL = root
        try await apply(next, source: .local)
    }

    /// The cloud base URL from the configuration.
    public func cloudRoot() -> String? {
        config.cloud
    }

    /// Seconds between check-ins: the start-up override, else the configuration's.
    var checkInInterval: Double {
        configuration.checkInInterval ?? Double(config.checkInIntervalS)
    }

    /// Seconds between automatic backups: the start-up override, else the configuration's.
    var backupInterval: Double {
        configuration.backupInterval ?? Double(config.backupIntervalS)
    }
}
