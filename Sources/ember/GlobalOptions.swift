import ArgumentParser
import EmberHTTP
import Foundation
import Logging

/// Options every command that opens the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(
        help:
            "Database URL: sqlite:PATH or postgres://user:password@host:5432/db?sslmode=require&pool=10. [env: EMBER_DATABASE_URL] (default: sqlite:./ember-data/ember.sqlite)"
    )
    var database: String?

    var resolved: String {
        database ?? Environment.string("EMBER_DATABASE_URL") ?? "sqlite:./ember-data/ember.sqlite"
    }
}

/// Reads `EMBER_*` variables, the second source of configuration after flags.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    static func integer(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be an integer, not '\(text)'") }
        return value
    }

    static func flag(_ name: String) throws -> Bool? {
        guard let text = string(name)?.lowercased() else { return nil }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ValidationError("\(name) must be true or false, not '\(text)'")
        }
    }
}

/// One logging set-up for every command: key=value lines on standard error.
enum LoggingSetup {
    static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = DeferredMetadataLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "ember")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
