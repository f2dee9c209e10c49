import Crypto
import EmberClient
import EmberCore
import Foundation
import Logging
import NIOHTTP1

/// Credential rotation without physical access (lifecycle §3): a fresh P-256 key, sealed as pending, proven to the
/// registry, made current, promoted by its first use. Power loss at any step leaves a key the registry accepts.
extension DeviceAgent {
    /// `POST /api/keys/rotate`, `ember device rotate-key` and the `rotate-key` action: returns the new epoch.
    public func rotateKey() async throws(AgentFailure) -> Int {
        let identity = try requireIdentity()
        guard !decommissioned else { throw .decommissioned }
        guard clockSynchronized else { throw .clockNotSynchronized }
        guard let root = cloudRoot(), case .known(registered: true, _, _) = registration else { throw .rotationNeedsRegistration }
        guard !rotating else { throw .rotationInProgress }
        rotating = true
        defer { rotating = false }
        let store = DeviceKeyStore(board: board)
        let current: Int
        let existing: RotatedKey?
        do {
            current = try store.currentEpoch()
            existing = try store.load(DeviceKeyStore.pending)
        } catch {
            throw .hardware(error)
        }
        // A pending key of the next epoch is one the registry may already hold: send it again rather than a new one.
        var pending = existing
        if pending?.epoch != current + 1 {
            let fresh = RotatedKey.generate(epoch: current + 1)
            try await offload { () throws(HardwareError) in try store.write(DeviceKeyStore.pending, fresh) }
            board.checkpoint(.rotationPendingWritten)
            pending = fresh
        }
        guard let pending else { throw .hardware(.keyDerivationFailed) }
        try await submitAndPromote(pending, identity: identity, root: root)
        return pending.epoch
    }

    /// `POST keys` signed with the current key, the rename that makes the new key current, and the check-in that
    /// promotes it.
    private func submitAndPromote(_ pending: RotatedKey, identity: IdentityBlock, root: String) async throws(AgentFailure) {
        let newKey: P256.Signing.PrivateKey
        do { newKey = try pending.signingKey() } catch { throw .hardware(error) }
        let nonce = Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let proof: String
        do {
            proof = try KeyProof.sign(key: newKey, uuid: identity.uuid, epoch: pending.epoch, nonce: nonce.base64EncodedString())
        } catch {
            throw .hardware(.keyDerivationFailed)
        }
        let submission = KeySubmission(epoch: pending.epoch, publicKey: DevicePublicKey(newKey.publicKey).base64, proof: proof)
        let reply: RegistryClient.Reply
        do {
            reply = try await cloud.signedJSON(
                .POST,
                "/devices/\(DeviceUUID.format(identity.uuid))/keys",
                submission,
                identity: identity,
                root: root,
                nonce: nonce
            )
        } catch {
            switch error {
            case .unreachable: throw .cloudUnreachable(.keyRotation, retrying: false)
            case .local(let error): throw .hardware(error)
            }
        }
        switch reply.status {
        case 200, 201:
            break
        case 400, 409:
            // The registry will never take this key: drop it, the current key stays.
            let partition = board.config
            _ = try? await offload { () throws(HardwareError) in try partition.remove(DeviceKeyStore.pending) }
            event(.error, "Key rotation fail")
            throw .cloudRefused(.keyRotation, status: reply.status, message: reply.message)
        default:
            throw .cloudRefused(.keyRotation, status: reply.status, message: reply.message)
        }
        board.checkpoint(.rotationSubmitted)
        let partition = board.config
        try await offload { () throws(HardwareError) in try partition.rename(DeviceKeyStore.pending, to: DeviceKeyStore.current) }
        board.checkpoint(.rotationCurrent)
        if await checkIn(acting: false) != nil {
            log.resolve("Key rotation fail")
            event(.info, "Key rotated")
        } else {
            logger.warning("the new key is current; the registry promotes it at the next signed request")
        }
    }

    /// At the start of the check-ins: a pending key left by a lost rotation is sent again, then promoted.
    func resumeKeyRotation() async {
        let store = DeviceKeyStore(board: board)
        guard let pending = try? store.load(DeviceKeyStore.pending), let identity = try? board.identity(), let root = cloudRoot() else { return }
        guard let current = try? store.currentEpoch(), pending.epoch == current + 1 else {
            let partition = board.config
            _ = try? await offload { () throws(HardwareError) in try partition.remove(DeviceKeyStore.pending) }
            return
        }
        event(.info, "Key rotation resume")
        guard !rotating else { return }
        rotating = true
        defer { rotating = false }
        do {
            try await submitAndPromote(pending, identity: identity, root: root)
        } catch {
            logger.warning("resuming the key rotation failed; the current key stays", metadata: ["ember.error": "\(error)"])
        }
    }
}
