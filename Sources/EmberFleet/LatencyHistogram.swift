/// Latencies in fixed memory, HdrHistogram-style: 256 linear sub-buckets per power of two up to about 73 minutes,
/// so every percentile is within 0.8 % of the true value (reported at its bucket's upper edge; max and min are exact).
/// Histograms of several workers merge.
public struct LatencyHistogram: Sendable, Equatable {
    static let subBuckets = 256
    static let halfSubBuckets = 128
    static let maxExponent = 35

    private var counts: [UInt64]
    /// Recorded values.
    public private(set) var count: UInt64 = 0
    /// Largest value, nanoseconds.
    public private(set) var maxNanoseconds: UInt64 = 0
    /// Smallest value, nanoseconds.
    public private(set) var minNanoseconds: UInt64 = .max
    private var sumNanoseconds: Double = 0

    /// An empty histogram.
    public init() {
        counts = [UInt64](repeating: 0, count: Self.subBuckets + Self.maxExponent * Self.halfSubBuckets)
    }

    /// A histogram of these samples (nanoseconds).
    public init<Samples: Sequence>(_ samples: Samples) where Samples.Element == UInt64 {
        self.init()
        for sample in samples { record(sample) }
    }

    static func index(of value: UInt64) -> Int {
        let exponent = max(0, (64 - value.leadingZeroBitCount) - 8)
        guard exponent > 0 else { return Int(value) }
        let clamped = min(exponent, maxExponent)
        let sub = Int(min(value >> UInt64(clamped), UInt64(subBuckets - 1)))
        return subBuckets + (clamped - 1) * halfSubBuckets + (sub - halfSubBuckets)
    }

    static func upperEdge(of index: Int) -> UInt64 {
        guard index >= subBuckets else { return UInt64(index) }
        let exponent = (index - subBuckets) / halfSubBuckets + 1
        let sub = UInt64((index - subBuckets) % halfSubBuckets + halfSubBuckets)
        return ((sub + 1) << UInt64(exponent)) - 1
    }

    /// Records one latency in nanoseconds.
    public mutating func record(_ nanoseconds: UInt64) {
        counts[Self.index(of: nanoseconds)] += 1
        count += 1
        maxNanoseconds = max(maxNanoseconds, nanoseconds)
        minNanoseconds = min(minNanoseconds, nanoseconds)
        sumNanoseconds += Double(nanoseconds)
    }

    /// Adds another histogram's counts.
    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
        maxNanoseconds = max(maxNanoseconds, other.maxNanoseconds)
        minNanoseconds = min(minNanoseconds, other.minNanoseconds)
        sumNanoseconds += other.sumNanoseconds
    }

    /// The `q`-quantile (0…1) in milliseconds; 0 when empty. q = 1 is the exact maximum.
    public func milliseconds(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        if q >= 1 { return Double(maxNanoseconds) / 1e6 }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, bucket) in counts.enumerated() where bucket > 0 {
            seen += bucket
            if seen >= rank { return Double(min(Self.upperEdge(of: index), maxNanoseconds)) / 1e6 }
        }
        return Double(maxNanoseconds) / 1e6
    }

    /// Mean in milliseconds; 0 when empty.
    public var meanMilliseconds: Double { count == 0 ? 0 : sumNanoseconds / Double(count) / 1e6 }
}
