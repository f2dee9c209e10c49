/// Percentiles of a set of latencies.
struct LatencyStats: Sendable {
    let sortedNanoseconds: [UInt64]

    init(_ samples: [UInt64]) {
        sortedNanoseconds = samples.sorted()
    }

    /// The `q`-quantile (0…1) in milliseconds, nearest rank.
    func milliseconds(_ q: Double) -> Double {
        guard !sortedNanoseconds.isEmpty else { return 0 }
        let index = min(sortedNanoseconds.count - 1, max(0, Int((q * Double(sortedNanoseconds.count)).rounded(.up)) - 1))
        return Double(sortedNanoseconds[index]) / 1e6
    }
}

/// The resident set size of a process (this one by default) in MiB, from /proc (nil where there is none);
/// `field` `RssAnon:` gives its private, anonymous part.
func residentMiB(pid: String = "self", field: String = "VmRSS:") -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kilobytes / 1_024
}
