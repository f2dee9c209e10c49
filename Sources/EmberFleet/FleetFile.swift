import EmberCore
import EmberDevice
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One simulated device in a fleet file (one JSON object per line): its identity, master key included —
/// the file stands in for the fleet's eFuses, so it is created readable by its owner only.
public struct FleetMember: Codable, Sendable, Equatable {
    public var uuid: String
    public var productHex: String
    /// The 32-byte master key, hex.
    public var masterKey: String

    enum CodingKeys: String, CodingKey {
        case uuid
        case productHex = "product_hex"
        case masterKey = "master_key"
    }

    /// The member of a simulated device.
    public init(_ device: SimulatedDevice) {
        uuid = DeviceUUID.format(device.uuid)
        productHex = device.productHex.description
        masterKey = device.master.withUnsafeBytes { Hex.encode(Array($0)) }
    }
}

/// A fleet failure the user can fix: a file that cannot be written or read, a malformed line.
public struct FleetError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Appends members to a fleet file, one `write` per line, so a stopped run leaves every registered device in it.
public final class FleetWriter: Sendable {
    private let descriptor: Mutex<Int32>
    public let path: String

    /// Creates (or truncates) the file with mode 0600: the file holds every device's master key. A symbolic link is
    /// refused (it could point at a file an attacker reads), and an existing file's looser mode is tightened.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            if errno == ELOOP { throw FleetError("\(path) is a symbolic link; give the fleet file's real path") }
            throw FleetError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard fchmod(fd, 0o600) == 0 else {
            POSIX.close(fd)
            throw FleetError("cannot make \(path) private (chmod 600): \(String(cString: strerror(errno)))")
        }
        self.descriptor = Mutex(fd)
        self.path = path
    }

    /// Appends one member.
    public func append(_ member: FleetMember) throws {
        var line = try JSONEncoder().encode(member)
        line.append(UInt8(ascii: "\n"))
        try descriptor.withLock { fd in
            let written = line.withUnsafeBytes { POSIX.write(fd, $0.baseAddress, $0.count) }
            guard written == line.count else { throw FleetError("cannot write \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Flushes the file to disk and closes it.
    public func close() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            fsync(fd)
            POSIX.close(fd)
            fd = -1
        }
    }

    deinit { close() }
}

/// A fleet read into memory: a few dozen bytes a device. Signing keys are derived from the master keys per request.
public struct Fleet: Sendable {
    public private(set) var uuids: [UUID] = []
    public private(set) var products: [ProductHex] = []
    private var keys: [MasterKey] = []

    public var count: Int { uuids.count }

    /// Reads a fleet file; a malformed line is an error naming its number.
    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FleetError("cannot open the fleet file \(path)") }
        defer { try? handle.close() }
        let data = handle.readDataToEndOfFile()
        let decoder = JSONDecoder()
        var number = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            number += 1
            guard let member = try? decoder.decode(FleetMember.self, from: Data(line)), let uuid = DeviceUUID.parse(member.uuid),
                let product = ProductHex(member.productHex), let bytes = Hex.decode(member.masterKey), let key = try? MasterKey(bytes: bytes)
            else { throw FleetError("\(path) line \(number) is not a fleet member (uuid, product_hex, master_key)") }
            uuids.append(uuid)
            products.append(product)
            keys.append(key)
        }
        guard !uuids.isEmpty else { throw FleetError("\(path) holds no devices; run `ember fleet provision` first") }
    }

    /// Device `index`.
    public func device(_ index: Int) -> SimulatedDevice {
        SimulatedDevice(uuid: uuids[index], master: keys[index], productHex: products[index])
    }
}
