import EmberCore
import Synchronization

/// Parsed device public keys by device and epoch, so a signed check does not decode and validate the point on every request.
/// An entry is used only while the stored key is still the one it was parsed from: a changed key is parsed again.
final class PublicKeyCache: Sendable {
    private struct Entry: Sendable {
        let encoded: String
        let key: DevicePublicKey
    }

    private let entries: Mutex<BoundedMap<String, Entry>>

    /// About 650 bytes a key: 200,000 held 130 MiB of a million-device boot storm's server (which checks each device
    /// once, so a cache that size never hit); 32,768 keep the devices that sign often at 21 MiB.
    init(capacity: Int = 32_768) {
        entries = Mutex(BoundedMap(capacity: capacity))
    }

    /// The parsed form of `encoded`, the stored key of `device` (a UUID and epoch, e.g. `<uuid>#1`); nil when it is not
    /// a valid key.
    func key(for device: String, encoded: String) -> DevicePublicKey? {
        if let entry = entries.withLock({ $0[device] }), entry.encoded == encoded { return entry.key }
        guard let key = try? DevicePublicKey(base64: encoded) else { return nil }
        entries.withLock { $0.set(device, Entry(encoded: encoded, key: key)) }
        return key
    }

    /// Number of keys held.
    var count: Int { entries.withLock { $0.count } }
}
