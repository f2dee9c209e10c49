#if canImport(Glibc)
import Glibc
#endif

/// glibc serves an allocation above its mmap threshold (128 KiB at start) with a fresh `mmap`, whose pages fault in
/// one by one and go back to the kernel on `free`; it raises the threshold only after such a block is freed, per
/// arena. A 512 KiB backup sealed or received in a fresh process therefore ran at a sixth of the speed it had once
/// the process had warmed up. Fixing the threshold at 4 MiB (and trimming the heap only above 8 MiB free) makes
/// backup-sized buffers come from the heap from the first request. `EMBER_MALLOC_DEFAULTS=1` keeps glibc's
/// defaults, to measure the difference.
enum Allocator {
    static let mmapThreshold: Int32 = 4 << 20
    static let trimThreshold: Int32 = 8 << 20

    static func tune() {
        #if canImport(Glibc)
        guard getenv("EMBER_MALLOC_DEFAULTS") == nil else { return }
        // `<malloc.h>` is not in Swift's Glibc module: glibc's `mallopt` is looked up, with its ABI-stable parameter
        // numbers (M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3). Another C library has no `mallopt` and keeps its own.
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        _ = mallopt(-3, mmapThreshold)
        _ = mallopt(-1, trimThreshold)
        #endif
    }
}
