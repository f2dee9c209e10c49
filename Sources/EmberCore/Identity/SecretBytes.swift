#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffer for key material that is overwritten with zeros when it is released (or `wipe()` is called), so copies
/// of a master key read from storage do not linger in freed memory.
public final class SecretBytes {
    private let storage: UnsafeMutableRawBufferPointer

    /// `count` zero bytes.
    public init(count: Int) {
        storage = .allocate(byteCount: max(count, 0), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// A copy of `bytes`.
    public convenience init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count)
        _ = storage.initializeMemory(as: UInt8.self, from: bytes)
    }

    deinit {
        wipe()
        storage.deallocate()
    }

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Reads the bytes in place.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Fills the bytes in place (e.g. from a `read(2)`).
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(storage)
    }

    /// Overwrites every byte with zero in a way the optimizer may not remove.
    public func wipe() {
        Self.zero(storage)
    }

    /// Overwrites `buffer` with zeros in a way the optimizer may not remove.
    public static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        #if canImport(Glibc)
        explicit_bzero(base, buffer.count)
        #elseif canImport(Darwin)
        _ = memset_s(base, buffer.count, 0, buffer.count)
        #else
        for index in 0..<buffer.count { buffer[index] = 0 }
        #endif
    }
}
