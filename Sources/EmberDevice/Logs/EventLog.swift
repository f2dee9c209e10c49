import Foundation
import Synchronization

/// The level of an event, as `GET /api/events` prints it.
public enum EventLevel: String, Sendable, Codable {
    case info, notify, error
}

/// One event-log entry: `time` is epoch seconds once the clock is synchronized, seconds since boot before.
public struct Event: Sendable, Codable, Equatable {
    public var time: Int64
    public var level: EventLevel
    public var text: String

    /// An entry.
    public init(time: Int64, level: EventLevel, text: String) {
        self.time = time
        self.level = level
        self.text = text
    }
}

/// One error-log entry.
public struct ErrorEntry: Sendable, Codable, Equatable {
    public var text: String
}

/// FireFly's event log and error log: bounded ring buffers persisted on the config partition.
///
/// Texts are cut to the OLED's 21 characters. Every `error` event also enters the error log, once per text,
/// until it is resolved.
public final class EventLog: Sendable {
    /// Entries kept in each log (FireFly's `EVENT_LOG_MAXIMUM_ENTRIES`).
    public static let capacity = 100
    /// The OLED's line width; longer texts are cut.
    public static let textLimit = 21

    static let eventsFile = "events.json"
    static let errorsFile = "errors.json"

    private struct State {
        var events: [Event]
        var errors: [ErrorEntry]
        /// Bumped by every change, so the writer can tell a newer snapshot from an older one.
        var version: UInt64 = 0
    }

    private let state: Mutex<State>
    /// The version of the snapshot on disk; held while writing, so files never go back to an older state.
    private let written = Mutex<UInt64>(0)
    private let partition: ConfigPartition
    private let capacity: Int

    /// The logs stored on `partition` (empty when none are stored yet or the files are damaged).
    public init(partition: ConfigPartition, capacity: Int = EventLog.capacity) {
        let decoder = JSONDecoder()
        let events = (try? partition.read(Self.eventsFile)).flatMap { $0 }.flatMap { try? decoder.decode([Event].self, from: $0) } ?? []
        let errors = (try? partition.read(Self.errorsFile)).flatMap { $0 }.flatMap { try? decoder.decode([ErrorEntry].self, from: $0) } ?? []
        self.state = Mutex(State(events: Array(events.suffix(capacity)), errors: Array(errors.suffix(capacity))))
        self.partition = partition
        self.capacity = capacity
    }

    /// Appends an event stamped `time`; an `error` also enters the error log. Both logs are written through, outside
    /// the lock readers take.
    public func record(_ level: EventLevel, _ text: String, at time: Int64) {
        let text = String(text.prefix(Self.textLimit))
        let snapshot = state.withLock { state in
            state.events.append(Event(time: time, level: level, text: text))
            if state.events.count > capacity { state.events.removeFirst(state.events.count - capacity) }
            if level == .error && !state.errors.contains(where: { $0.text == text }) {
                state.errors.append(ErrorEntry(text: text))
                if state.errors.count > capacity { state.errors.removeFirst(state.errors.count - capacity) }
            }
            state.version += 1
            return state
        }
        persist(snapshot)
    }

    /// Removes an error from the error log (the condition is over).
    public func resolve(_ text: String) {
        let text = String(text.prefix(Self.textLimit))
        let snapshot = state.withLock { state -> State? in
            guard let index = state.errors.firstIndex(where: { $0.text == text }) else { return nil }
            state.errors.remove(at: index)
            state.version += 1
            return state
        }
        if let snapshot { persist(snapshot) }
    }

    /// Writes both logs durably (fsynced) now.
    public func flush() throws(HardwareError) {
        let snapshot = state.withLock { $0 }
        try written.withLock { (version: inout UInt64) throws(HardwareError) in
            let encoder = JSONEncoder()
            guard let events = try? encoder.encode(snapshot.events), let errors = try? encoder.encode(snapshot.errors) else {
                throw .storage("cannot encode the event log")
            }
            try partition.write(Self.eventsFile, events)
            try partition.write(Self.errorsFile, errors)
            version = max(version, snapshot.version)
        }
    }

    /// Empties both logs in memory and removes their files (a decommission's wipe); later events start a new log.
    public func erase() {
        written.withLock { version in
            let next = state.withLock { state -> UInt64 in
                state.events = []
                state.errors = []
                state.version += 1
                return state.version
            }
            version = next
            try? partition.securelyRemove(Self.eventsFile)
            try? partition.securelyRemove(Self.errorsFile)
        }
    }

    /// The events, oldest first.
    public var events: [Event] { state.withLock { $0.events } }
    /// The open errors, in the order they happened.
    public var errors: [ErrorEntry] { state.withLock { $0.errors } }

    /// Writes a snapshot (both logs, so a skipped older snapshot loses nothing) unless a newer one is already on
    /// disk. Not fsynced: the logs survive a crash or restart of the agent; only a power loss may cost the last entries.
    private func persist(_ snapshot: State) {
        written.withLock { version in
            guard snapshot.version > version else { return }
            version = snapshot.version
            let encoder = JSONEncoder()
            if let data = try? encoder.encode(snapshot.events) { try? partition.write(Self.eventsFile, data, durable: false) }
            if let data = try? encoder.encode(snapshot.errors) { try? partition.write(Self.errorsFile, data, durable: false) }
        }
    }
}
