import EmberCore
import Foundation
import Logging

/// Boot sessions: the boot sequence, the session's child tasks, reboots.
extension DeviceAgent {
    /// Runs the boot sequence of device.md — open the board, fuses, checks, config, display — and prepares the
    /// session whose background work `run()` performs. Throws when the board cannot be opened.
    public func boot() async throws {
        board = try openBoard()
        log = EventLog(partition: board.config)
        bootUptime = clock.uptime()
        clockSynchronized = false
        registration = .pending
        zeroTouch = ZeroTouchStatus()
        resetNetwork()
        registrationJob = nil
        checkInJob = nil
        decommissioned = false
        tokens.reset()
        commands = AsyncStream.makeStream(of: SessionCommand.self)
        event(.info, "Event log started")
        logger.info("board booted", metadata: ["ember.device.product": "\(board.product)"])
        if await resumeDecommission() {
            decommissioned = true
            config = configStore.defaults
            registration = .known(registered: false, checkedAt: clock.epochSeconds(), cloudRoot: "")
            event(.notify, "Decommissioned")
            refreshDisplay()
            resumeBootWaiters(throwing: nil)
            return
        }

        await loadConfig()
        let product = try? catalog.product(board.product)
        if product?.burnVDDSDIOFuses == true { await burnVDDSDIOFusesOnce() }
        runChecks(product: product)
        factoryTest = nil
        if let cloudURL = configuration.cloudURL {
            do {
                try await saveCloudRoot(cloudURL)
            } catch {
                logger.error("the start-up cloud URL could not be saved", metadata: ["ember.error": "\(APIErrorText.of(error))"])
            }
        }
        let backup = LocalBackup(partition: board.config)
        _ = try? await offload { backup.repair() }
        refreshDisplay()
        resumeBootWaiters(throwing: nil)
    }

    /// Wakes the callers of `reboot()`: with `error`, or successfully when it is nil.
    private func resumeBootWaiters(throwing error: (any Error)?) {
        let waiters = bootWaiters
        bootWaiters = []
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    /// Runs boot sessions until the task is cancelled: the current one (booting first if needed), then a fresh
    /// one after every reboot. A board that cannot be reopened ends the loop with its error.
    public func run() async throws {
        if commands == nil { try await boot() }
        do {
            while try await runSession() {
                try await boot()
            }
            resumeBootWaiters(throwing: CancellationError())  // shut down: no boot is coming
        } catch {
            logger.critical("the board cannot be reopened; the agent stops", metadata: ["ember.error": "\(error)"])
            resumeBootWaiters(throwing: error)
            throw error
        }
    }

    /// One session: token rotation, clock sync with the registration check, the backup schedule and every job
    /// handed in, all child tasks. Returns true for a reboot (after the children ended), false when cancelled.
    private func runSession() async throws -> Bool {
        guard let commands else { return false }
        let reboot = await withDiscardingTaskGroup(returning: Bool.self) { group in
            group.addTask { await self.rotateTokens() }
            group.addTask { await self.synchronizeAndCheck() }
            group.addTask { await self.runBackupSchedule() }
            var rebooting = false
            for await command in commands.stream {
                switch command {
                case .start(let job) where rebooting:
                    job.abandon()  // handed in after the reboot was asked for: it belongs to no session
                case .start(let job):
                    group.addTask { await job.run() }
                case .reboot where !rebooting:
                    // Later hand-ins are refused (and abandoned by `start`); the buffered ones drain above.
                    rebooting = true
                    group.cancelAll()
                    commands.continuation.finish()
                case .reboot:
                    break
                }
            }
            commands.continuation.finish()
            group.cancelAll()
            return rebooting
        }
        registrationJob?.abandon()
        return reboot
    }

    /// `POST /api/mcu/reboot`: ends the session (its work is cancelled and awaited) and boots again; returns once
    /// the new session has booted. Authorizations are lost.
    public func reboot() async throws {
        guard let commands else { throw AgentFailure.hardware(.storage("the agent is not running")) }
        event(.notify, "Rebooting...")
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            bootWaiters.append(continuation)
            // Ignored when a reboot is already under way: then this caller waits for that one's boot.
            commands.continuation.yield(.reboot)
        }
    }

    /// Asks the running session to reboot without waiting (the HTTP reply goes out first, as on FireFly); `announce`
    /// logs `Rebooting...` first.
    public func requestReboot(announce: Bool = true) {
        if announce { event(.notify, "Rebooting...") }
        commands?.continuation.yield(.reboot)
    }

    /// The HTTP server is up at `address`; shown on the OLED.
    public func serving(at address: String) {
        self.address = address
        event(.info, "Web server started")
        refreshDisplay()
    }

    /// The session's first job: wait for NTP, then check (or resume) the registration.
    /// The boot's factory test runs once the clock is synchronized (or has failed to).
    /// A Wi-Fi board first joins its network; one in field provisioning goes on from `PUT /api/provisioning`.
    private func synchronizeAndCheck() async {
        guard await bringUpNetwork() else { return }
        let synchronized = await synchronizeClockNow()
        guard !Task.isCancelled else { return }
        guard synchronized else {
            if !decommissioned { await runFactoryTest() }
            return
        }
        if !decommissioned { await runFactoryTest() }
        if decommissioned {
            await retryDecommissionNotice()
            return
        }
        guard let identity = try? board.identity() else { return }
        let pending = await pendingRegistration()
        // Power lost after the device certificate was saved and before the zero-touch marker was removed.
        if pending?.zeroTouch == true && !zeroTouchPending { await removePending() }
        if pending?.zeroTouch != true, let pending {
            event(.info, "Cloud reg resume")
            await replaceRegistrationJob { await self.resumeRegistration(pending, identity: identity) }
        } else if await startZeroTouch(identity: identity) {
            return
        } else if let root = cloudRoot() {
            await checkRegistration(identity: identity, root: root)
        } else {
            registration = .failed(message: "No cloud configured; register with a url first", checkedAt: clock.epochSeconds(), cloudRoot: "")
        }
    }

    /// Waits for NTP once per session; true when the clock is synchronized (then events carry epoch times).
    func synchronizeClockNow() async -> Bool {
        if clockSynchronized { return true }
        let synchronized = await board.synchronizeClock(clock, servers: config.ntpServers)
        guard !Task.isCancelled else { return false }
        guard synchronized else {
            event(.notify, "NTP sync fail")
            return false
        }
        clockSynchronized = true
        bootTime = clock.epochSeconds() - Int64(clock.uptime() - bootUptime)
        event(.info, "Clock synchronized")
        return true
    }

    private func burnVDDSDIOFusesOnce() async {
        let board = self.board
        do {
            if try !board.vddSDIOFuses().allBurned {
                try await offload { () throws(HardwareError) in try board.burnVDDSDIOFuses() }
                event(.notify, "VDD_SDIO fuses burned")
            }
        } catch {
            event(.error, "VDD_SDIO burn fail")
            logger.error("VDD_SDIO burn failed", metadata: ["ember.error": "\(error)"])
        }
    }
}
