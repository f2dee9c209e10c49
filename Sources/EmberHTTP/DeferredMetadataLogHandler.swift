import Logging

/// Lines as `StreamLogHandler` writes them, with the metadata formatted when a line is written rather than whenever
/// it changes.
///
/// `StreamLogHandler` formats all of its metadata on every change, and Hummingbird gives each request's logger a
/// `hb.request.id`: a server that logs nothing per request still formatted that id once a request (about 2 % of a
/// signed check's server time in `docs/performance.md`).
public struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]

    /// Writes to standard error, as `StreamLogHandler.standardError` does.
    public static func standardError(label: String) -> Self { Self(stream: .standardError(label: label)) }

    private init(stream: StreamLogHandler) { self.stream = stream }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var stream = self.stream
        stream.metadata = metadata
        stream.log(event: event)
    }
}
