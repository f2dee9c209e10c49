import EmberSystem
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How the benchmarks and these tests start programs (`ChildProcess`, in place of Foundation's `Process`).
struct ChildProcessTests {
    @Test func manyOpenDescriptorsAreNeitherAProblemNorInherited() throws {
        // Foundation's `Process.run()` crashed past about 1,360 open descriptors (it reads each /proc/self/fd name
        // 256 bytes at a time); the child must also not inherit any of them.
        let extra = (0..<1_500).map { _ in open("/dev/null", O_RDONLY) }
        defer { for descriptor in extra where descriptor >= 0 { close(descriptor) } }
        #expect(extra.allSatisfy { $0 >= 0 }, "1,500 descriptors could be opened")
        let run = try #require(ChildProcess.run("/bin/ls", ["/proc/self/fd"]))
        #expect(run.termination == .exited(0))
        let inherited = run.output.split(separator: "\n").compactMap { Int32($0) }.filter { $0 > 2 }
        // `ls` holds one of its own: the directory it reads.
        #expect(inherited.count <= 1, "the child inherited \(inherited.count) descriptors")
    }

    @Test func exitCodesAndSignalsAreTold() async throws {
        #expect(ChildProcess.run("/bin/sh", ["-c", "exit 3"])?.termination == .exited(3))
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        #expect(try await sleeper.wait(timeout: .milliseconds(100)) == nil, "still running")
        #expect(sleeper.isRunning)
        sleeper.send(SIGKILL)
        #expect(try await sleeper.wait(timeout: .seconds(10)) == .signaled(SIGKILL))
        #expect(!sleeper.isRunning)
        sleeper.send(SIGKILL)  // after the reap: no signal goes to a pid that may have been reused
        #expect(sleeper.termination?.status == SIGKILL)
    }

    @Test func theChildStartsWithNoBlockedSignalAndOnlyTheGivenEnvironment() throws {
        let blocked = try #require(ChildProcess.run("/bin/sh", ["-c", "grep SigBlk /proc/self/status"]))
        #expect(blocked.output.contains("0000000000000000"), "\(blocked.output)")
        let environment = try #require(ChildProcess.run("/usr/bin/env", [], environment: ["EMBER_CHILD": "yes"]))
        #expect(environment.output == "EMBER_CHILD=yes\n")
    }

    @Test func outputGoesWhereItIsSent() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("out.log")
        let writer = try ChildProcess("/bin/sh", ["-c", "echo out; echo err >&2"], output: .file(log.path))
        #expect(try await writer.wait(timeout: .seconds(10)) == .exited(0))
        #expect(try String(contentsOf: log, encoding: .utf8) == "out\nerr\n")
        #expect(ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2"])?.output == "out\n", "standard error discarded")
        #expect(ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2"], mergingErrors: true)?.output == "out\nerr\n")
    }

    @Test func aProgramThatCannotStartIsAnError() {
        #expect(ChildProcess.run("/nonexistent/ember-tool", []) == nil)
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess("/nonexistent/ember-tool", []) }
    }
}
