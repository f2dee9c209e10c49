import AsyncHTTPClient
import NIOSSL

extension HTTPClient.Configuration {
    /// Where every Ember client's connection pool starts. It never follows a redirect: a request carries a bearer
    /// token or a device's signature, which must not go to wherever a `Location` points. It makes no tracing spans:
    /// Ember installs no tracer, and AsyncHTTPClient's no-op spans cost 5 % of a boot storm's client CPU.
    public static func ember(tls: TLSConfiguration? = nil) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.redirectConfiguration = .disallow
        configuration.tracing.tracer = nil
        return configuration
    }
}
