import EmberCore
import SQLKit

extension SQLStore {
    public func enroll(_ enrollment: Enrollment, now: Int64, by actor: AuditActor) async throws -> EnrollmentOutcome {
        // As for key registrations: a transaction that loses an insert race rolls back and is decided again.
        for _ in 0..<3 {
            do {
                return try await enrollOnce(enrollment, now: now, by: actor)
            } catch is ConcurrentRegistration {
                continue
            }
        }
        throw StoreError.contended("the enrollment of \(enrollment.serial)")
    }

    private func enrollOnce(_ enrollment: Enrollment, now: Int64, by actor: AuditActor) async throws -> EnrollmentOutcome {
        let uuid = DeviceUUID.format(enrollment.registration.uuid)
        let serial = enrollment.serial
        return try await provider.transaction { db in
            var registration = enrollment.registration
            if let bound = try await db.select().column("uuid").from("enrollments").where("serial", .equal, serial).first() {
                guard try bound.decode(column: "uuid", as: String.self) == uuid else { return .serialTaken }
                return try await repeatEnrollment(uuid: uuid, publicKey: registration.publicKey.base64, on: db)
            }
            if try await db.select().column("serial").from("enrollments").where("uuid", .equal, uuid).first() != nil {
                return .deviceHasAnotherSerial
            }
            let preregistration = try await db.select().columns("product_hex", "region", "fleet_id").from("preregistrations")
                .where("serial", .equal, serial).first()
            if let preregistration {
                if let product = try preregistration.decode(column: "product_hex", as: String?.self), product != registration.productHex.description {
                    return .productMismatch(expected: product)
                }
                if let region = try preregistration.decode(column: "region", as: String?.self) { registration.manufacturing.region = region }
                if let fleet = try preregistration.decode(column: "fleet_id", as: String?.self) { registration.manufacturing.fleetID = fleet }
            } else if enrollment.requiresPreregistration {
                return .notPreregistered
            }

            let existing = try await db.select().columns("public_key", "decommissioned_at").from("devices").where("uuid", .equal, uuid).first()
            if let existing {
                if try !existing.decodeNil(column: "decommissioned_at") { return .decommissioned }
                guard try existing.decode(column: "public_key", as: String.self) == registration.publicKey.base64 else {
                    return .conflictingPublicKey
                }
            } else {
                try await insertDevice(DeviceRow(registration), registeredBy: "onboarding:\(serial)", registrationKey: "", now: now, on: db)
            }
            let bound = try await db.insert(into: "enrollments").columns("serial", "uuid", "enrolled_at")
                .values(SQLBind(serial), SQLBind(uuid), SQLBind(now)).ignoringConflicts().returning("serial").first()
            guard bound != nil else { throw ConcurrentRegistration() }
            // A device registered with a key earlier keeps the certificate it may have fetched.
            let certificate = try await Self.storedCertificate(uuid: uuid, on: db)?.pem ?? enrollment.certificatePEM
            if certificate == enrollment.certificatePEM {
                try await Self.upsertCertificate(StoredDeviceCertificate(uuid: uuid, epoch: 0, pem: certificate, issuedAt: now), on: db)
            }
            let detail =
                existing == nil
                ? "product \(registration.productHex) enrolled with onboarding serial \(serial)"
                : "device registered earlier bound to onboarding serial \(serial)"
            try await insertAudit([AuditEvent(at: now, by: actor, action: "device.enrolled", subject: uuid, detail: detail)], on: db)
            return existing == nil ? .enrolled(certificatePEM: certificate) : .alreadyEnrolled(certificatePEM: certificate)
        }
    }

    /// The same serial from the same device again (a lost reply): its certificate, if the key is the same.
    private func repeatEnrollment(uuid: String, publicKey: String, on db: any SQLDatabase) async throws -> EnrollmentOutcome {
        guard let device = try await db.select().columns("public_key", "decommissioned_at").from("devices").where("uuid", .equal, uuid).first()
        else { return .serialTaken }
        if try !device.decodeNil(column: "decommissioned_at") { return .decommissioned }
        guard try device.decode(column: "public_key", as: String.self) == publicKey else { return .conflictingPublicKey }
        guard let certificate = try await Self.storedCertificate(uuid: uuid, on: db) else { return .serialTaken }
        return .alreadyEnrolled(certificatePEM: certificate.pem)
    }
}
