/// Runs `body` repeatedly on the calling thread for about `seconds` and returns operations per second.
///
/// `body` does `batch` operations per call and returns a value that is folded into a checksum, so the
/// optimizer cannot drop the work; the checksum is returned too.
func measure(seconds: Double, batch: Int = 64, _ body: () throws -> Int) rethrows -> (perSecond: Double, checksum: Int) {
    let clock = ContinuousClock()
    let start = clock.now
    let limit = Duration.milliseconds(Int64(seconds * 1_000))
    var operations = 0
    var checksum = 0
    while clock.now - start < limit {
        checksum &+= try body()
        operations += batch
    }
    let elapsed = clock.now - start
    let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(operations) / secondsElapsed, checksum)
}
