import EmberCore
import Metrics
import Prometheus

/// Every metric Ember records, named `ember_<area>_<what>_total|seconds`, on one Prometheus registry per server.
public struct EmberMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        self.registry = registry
        self.factory = factory
    }

    /// One HTTP request, by route template (never the raw path), method and status.
    func request(route: String, method: String, status: Int, nanoseconds: Int64) {
        Counter(label: "ember_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory)
            .increment()
        Timer(label: "ember_http_request_duration_seconds", dimensions: [("route", route), ("method", method)], factory: factory)
            .recordNanoseconds(nanoseconds)
    }

    /// A registration attempt's outcome: registered, already_registered, conflict, invalid_key, invalid_body, rate_limited.
    func registration(_ outcome: String) {
        Counter(label: "ember_registrations_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// A backup request's outcome: stored, not_modified, downloaded, deleted, or a refusal (too_large, empty, not_ffce,
    /// bad_etag, busy).
    func backup(_ outcome: String) {
        Counter(label: "ember_backups_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// Backup bodies being read now (bounded by `--concurrent-uploads`).
    func backupUploadsInProgress(_ count: Int) {
        Gauge(label: "ember_backup_uploads_in_progress", factory: factory).record(count)
    }

    /// Bytes of backup blobs written.
    func backupBytesStored(_ count: Int) {
        Counter(label: "ember_backup_bytes_stored_total", factory: factory).increment(by: count)
    }

    func keyMinted(count: Int = 1) {
        Counter(label: "ember_registration_keys_minted_total", factory: factory).increment(by: count)
    }

    /// A refused device-signed request, by reason.
    func authFailure(_ reason: DeviceAuthError) {
        Counter(label: "ember_auth_failures_total", dimensions: [("reason", "\(reason)")], factory: factory).increment()
    }

    /// A check-in, by whether it delivered actions (`delivered`) or not (`idle`).
    func checkIn(_ outcome: String) {
        Counter(label: "ember_check_ins_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// An action's step, by type and outcome: created, delivered, done, failed, cancelled.
    func action(_ type: ActionType, _ outcome: String) {
        Counter(label: "ember_actions_total", dimensions: [("type", type.rawValue), ("outcome", outcome)], factory: factory).increment()
    }

    /// An enrollment's outcome: enrolled, repeated, untrusted, bad_signature, replayed, not_preregistered, conflict,
    /// invalid_body; and device certificates issued (`certificate_issued`).
    func enrollment(_ outcome: String) {
        Counter(label: "ember_enrollments_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// A device claim's outcome: claimed, already_owned, invalid_token, conflict, rate_limited.
    func claim(_ outcome: String) {
        Counter(label: "ember_claims_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// A key-rotation step: submitted, replaced, promoted, refused.
    func keyRotation(_ outcome: String) {
        Counter(label: "ember_key_rotations_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// A device decommissioned, by who started it: admin (remote) or device (local notice).
    func decommissioned(_ by: String) {
        Counter(label: "ember_decommissions_total", dimensions: [("by", by)], factory: factory).increment()
    }

    /// A refused admin request (missing/unknown token or wrong role).
    func adminAuthFailure(_ reason: String) {
        Counter(label: "ember_admin_auth_failures_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
