import Crypto
import EmberClient
import EmberCore
import Foundation
import NIOCore
import NIOHTTP1

/// The agent's calls to the cloud: registration and the signed registration check.
///
/// Keys are derived from the board for each call and released (their storage zeroed) when the call returns.
struct DeviceCloud: Sendable {
    /// Why a signed request got no answer: the cloud could not be reached, or the board failed locally.
    enum Failure: Error, Equatable {
        case unreachable
        case local(HardwareError)
    }

    let board: any Hardware
    let signature: SignatureVersion
    let applicationVersion: String
    let clock: any DeviceClock
    var timeoutSeconds: Int64 = 10
    /// The board has a network (false for a Wi-Fi board that has not joined one).
    var online = true

    /// Whether a call can leave the board: it has a network and the path to the cloud is up.
    var reachable: Bool { online && board.cloudReachable }

    /// The outcome of a registration request.
    enum Registration: Equatable {
        case accepted
        /// The cloud refused the key (401/403).
        case keyRefused
        /// The cloud refused the request for another reason that a retry cannot fix (another 4xx).
        case refused(status: Int, message: String)
        /// Transport failure or a server-side status: worth retrying.
        case unavailable(String)
    }

    /// The outcome of the signed registration check.
    enum Check: Equatable {
        case registered
        case notRegistered
        /// 401: the cloud does not accept this device's signature.
        case signatureRefused(String)
        case failed(String)
        /// The board could not derive or use its key; nothing was sent.
        case localFailure(HardwareError)
        /// 410: the registry decommissioned this device; its next check-in delivers the action.
        case decommissioned
    }

    /// A client of the cloud at `root`. With `root-certificate.pem` on the config partition (EVE's file) only the
    /// certificates in it are trusted for HTTPS; a file that cannot be read refuses every connection rather than
    /// fall back to the system's roots.
    func client(_ root: String, timeout: TimeAmount? = nil) throws -> RegistryClient {
        let timeout = timeout ?? .seconds(timeoutSeconds)
        guard board.config.exists(OnboardingFiles.rootCertificate) else { return RegistryClient(baseURL: root, timeout: timeout) }
        let file = board.config.folder.appendingPathComponent(OnboardingFiles.rootCertificate).path
        if let problem = TrustedHTTP.problem(rootFile: file) { throw HardwareError.storage(problem) }
        return RegistryClient(baseURL: root, http: try TrustedHTTP.client(rootFile: file), timeout: timeout)
    }

    /// Why the cloud at `root` cannot be reached (nil: it answered, whatever the status) — the factory test's check.
    func reachabilityProblem(root: String) async -> String? {
        guard reachable else { return "the network path to the cloud is down" }
        do {
            _ = try await client(root, timeout: .seconds(5)).send(.GET, "/health")
            return nil
        } catch {
            return "no answer from \(root)"
        }
    }

    /// The FireFly registration body, built from the board's facts, with Ember's manufacturing fields.
    func registrationBody(
        identity: IdentityBlock,
        manufacturing: ManufacturingFields = ManufacturingFields()
    ) throws(HardwareError)
        -> RegistrationRequest
    {
        let publicKey: DevicePublicKey
        do { publicKey = DevicePublicKey(try MasterKey.signingKey(scalar: board.deriveKey(.auth)).publicKey) } catch { throw .keyDerivationFailed }
        let mcu = board.mcu
        return RegistrationRequest(
            uuid: DeviceUUID.format(identity.uuid),
            productID: identity.productHex.productID,
            productHex: identity.productHex.description,
            deviceClass: "CONTROLLER",
            publicKey: publicKey.base64,
            registeringApplication: HWRegAPI.applicationDisplayName,
            registeringVersion: applicationVersion,
            mcu: MCUInfo(
                model: mcu.chipModel,
                revision: mcu.revision,
                cpuFreqMHz: mcu.cpuFreqMHz,
                cores: mcu.chipCores,
                flashChipSize: mcu.flashChipSize,
                flashChipSpeed: mcu.flashChipSpeedMHz,
                flashChipMode: mcu.flashChipMode,
                psramSize: mcu.psramSize,
                features: mcu.chipFeatures,
                idfVersion: mcu.sdkVersion
            ),
            network: board.networkInterfaces,
            partitions: board.partitions,
            manufacturing: manufacturing
        )
    }

    /// `POST {root}/devices/register` with the key; no signature (FireFly's protocol). Throws only for a local failure.
    func register(
        identity: IdentityBlock,
        key: String,
        root: String,
        manufacturing: ManufacturingFields = ManufacturingFields()
    ) async throws(HardwareError) -> Registration {
        guard reachable else { return .unavailable("Cloud unreachable") }
        let body = try registrationBody(identity: identity, manufacturing: manufacturing)
        do {
            let reply = try await client(root).register(body, key: key)
            switch reply.status {
            case 204: return .accepted
            case 401, 403: return .keyRefused
            case 408, 429, 500...599: return .unavailable("cloud answered \(reply.status): \(reply.message)")
            default: return .refused(status: reply.status, message: reply.message)
            }
        } catch {
            return .unavailable("Cloud unreachable")
        }
    }

    /// Signed `GET {root}/devices/{uuid}/registration`.
    func check(identity: IdentityBlock, root: String) async -> Check {
        let path = "/devices/\(DeviceUUID.format(identity.uuid))/registration"
        let reply: RegistryClient.Reply
        do {
            reply = try await signed(.GET, path, identity: identity, root: root)
        } catch {
            switch error {
            case .unreachable: return .failed("Cloud unreachable")
            case .local(let error): return .localFailure(error)
            }
        }
        switch reply.status {
        case 200: return .registered
        case 404: return .notRegistered
        case 410: return .decommissioned
        case 401: return .signatureRefused(reply.message.isEmpty ? "Cloud verification failed" : reply.message)
        default: return .failed(reply.message.isEmpty ? "Cloud verification failed" : reply.message)
        }
    }

    /// A signed request to the cloud, with the key in use (or `key`, e.g. the one a decommission marker kept).
    func signed(
        _ method: HTTPMethod,
        _ path: String,
        identity: IdentityBlock,
        root: String,
        body: Data = Data(),
        headers: [(String, String)] = [],
        timeoutSeconds: Int64? = nil,
        key: SigningIdentity? = nil,
        nonce: Data? = nil
    ) async throws(Failure) -> RegistryClient.Reply {
        guard reachable else { throw .unreachable }
        let signature: RequestSigner.Headers
        do {
            signature = try sign(identity: identity, method: method.rawValue, path: path, body: body, key: key, nonce: nonce)
        } catch {
            throw .local(error)
        }
        do {
            return try await client(root, timeout: .seconds(timeoutSeconds ?? self.timeoutSeconds)).send(
                method,
                path,
                headers: signature.fields.map { ($0.name, $0.value) } + headers,
                body: body.isEmpty ? nil : body
            )
        } catch {
            throw .unreachable
        }
    }

    /// A signed JSON request: the body encoded, `Content-Type` set.
    func signedJSON(
        _ method: HTTPMethod,
        _ path: String,
        _ value: some Encodable,
        identity: IdentityBlock,
        root: String,
        key: SigningIdentity? = nil,
        nonce: Data? = nil
    ) async throws(Failure) -> RegistryClient.Reply {
        let body: Data
        do { body = try JSONEncoder().encode(value) } catch { throw .local(.storage("cannot encode a request body")) }
        return try await signed(
            method,
            path,
            identity: identity,
            root: root,
            body: body,
            headers: [(FireFlyHeader.contentType, "application/json")],
            key: key,
            nonce: nonce
        )
    }

    /// Signature headers for one request with the key in use (or `key`); private keys exist only inside this call.
    func sign(
        identity: IdentityBlock,
        method: String,
        path: String,
        body: Data = Data(),
        key: SigningIdentity? = nil,
        nonce: Data? = nil
    ) throws(HardwareError) -> RequestSigner.Headers {
        let signing: SigningIdentity
        if let key { signing = key } else { signing = try DeviceKeyStore(board: board).signingIdentity() }
        do {
            return try RequestSigner.sign(
                key: signing.key,
                uuid: identity.uuid,
                version: signature,
                method: method,
                path: path,
                body: body,
                at: DeviceTimestamp(epochSeconds: clock.epochSeconds()),
                nonce: nonce
            )
        } catch {
            throw .keyDerivationFailed
        }
    }
}
