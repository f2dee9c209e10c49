import Foundation

/// The resident set size of a process (this one by default) in MiB, from /proc (nil where there is none);
/// `field` `RssAnon:` gives its private, anonymous part.
func residentMiB(pid: String = "self", field: String = "VmRSS:") -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kilobytes / 1_024
}
