import EmberCore
import SQLKit

extension SQLStore {
    public func addOnboardingRoot(_ root: OnboardingRoot, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.insert(into: "onboarding_roots").columns("sha256", "subject", "pem", "not_after", "added_at", "added_by")
                .values(
                    SQLBind(root.sha256),
                    SQLBind(root.subject),
                    SQLBind(root.pem),
                    SQLBind(root.notAfter),
                    SQLBind(root.addedAt),
                    SQLBind(root.addedBy)
                )
                .ignoringConflicts(with: "sha256").returning("sha256").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func onboardingRoots() async throws -> [OnboardingRoot] {
        try await provider.read { db in
            try await db.select().columns("sha256", "subject", "pem", "not_after", "added_at", "added_by").from("onboarding_roots")
                .orderBy("added_at").orderBy("sha256").all().map {
                    OnboardingRoot(
                        sha256: try $0.decode(column: "sha256", as: String.self),
                        subject: try $0.decode(column: "subject", as: String.self),
                        notAfter: try $0.decode(column: "not_after", as: Int64.self),
                        addedAt: try $0.decode(column: "added_at", as: Int64.self),
                        addedBy: try $0.decode(column: "added_by", as: String.self),
                        pem: try $0.decode(column: "pem", as: String.self)
                    )
                }
        }
    }

    public func removeOnboardingRoot(sha256: String, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.delete(from: "onboarding_roots").where("sha256", .equal, sha256).returning("sha256").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func addPreregistration(_ preregistration: Preregistration, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.insert(into: "preregistrations").columns("serial", "product_hex", "region", "fleet_id", "created_at", "created_by")
                .values(
                    SQLBind(preregistration.serial),
                    SQLBind(preregistration.productHex),
                    SQLBind(preregistration.region),
                    SQLBind(preregistration.fleetID),
                    SQLBind(preregistration.createdAt ?? audit.at),
                    SQLBind(preregistration.createdBy ?? audit.by.actor)
                )
                .ignoringConflicts(with: "serial").returning("serial").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func preregistrations(limit: Int, after: String?) async throws -> [Preregistration] {
        try await provider.read { db in
            let rows = try await db.raw(
                """
                SELECT p.serial, p.product_hex, p.region, p.fleet_id, p.created_at, p.created_by, e.uuid, e.enrolled_at
                FROM preregistrations p LEFT JOIN enrollments e ON e.serial = p.serial
                WHERE p.serial > \(bind: after ?? "") ORDER BY p.serial LIMIT \(bind: limit)
                """
            ).all()
            return try rows.map {
                Preregistration(
                    serial: try $0.decode(column: "serial", as: String.self),
                    productHex: try $0.decode(column: "product_hex", as: String?.self),
                    region: try $0.decode(column: "region", as: String?.self),
                    fleetID: try $0.decode(column: "fleet_id", as: String?.self),
                    createdAt: try $0.decode(column: "created_at", as: Int64.self),
                    createdBy: try $0.decode(column: "created_by", as: String.self),
                    enrolledUUID: try $0.decode(column: "uuid", as: String?.self),
                    enrolledAt: try $0.decode(column: "enrolled_at", as: Int64?.self)
                )
            }
        }
    }

    public func removePreregistration(serial: String, audit: AuditEvent) async throws -> Bool {
        try await provider.transaction { db in
            let row = try await db.delete(from: "preregistrations").where("serial", .equal, serial).returning("serial").first()
            guard row != nil else { return false }
            try await insertAudit([audit], on: db)
            return true
        }
    }

    public func deviceCertificate(uuid: String) async throws -> StoredDeviceCertificate? {
        try await provider.read { db in try await Self.storedCertificate(uuid: uuid, on: db) }
    }

    static func storedCertificate(uuid: String, on db: any SQLDatabase) async throws -> StoredDeviceCertificate? {
        try await db.select().columns("epoch", "pem", "issued_at").from("device_certificates").where("uuid", .equal, uuid).first().map {
            StoredDeviceCertificate(
                uuid: uuid,
                epoch: try $0.decode(column: "epoch", as: Int.self),
                pem: try $0.decode(column: "pem", as: String.self),
                issuedAt: try $0.decode(column: "issued_at", as: Int64.self)
            )
        }
    }

    public func saveDeviceCertificate(_ certificate: StoredDeviceCertificate, audit: AuditEvent) async throws {
        try await provider.transaction { db in
            try await Self.upsertCertificate(certificate, on: db)
            try await insertAudit([audit], on: db)
        }
    }

    static func upsertCertificate(_ certificate: StoredDeviceCertificate, on db: any SQLDatabase) async throws {
        try await db.delete(from: "device_certificates").where("uuid", .equal, certificate.uuid).run()
        try await db.insert(into: "device_certificates").columns("uuid", "epoch", "pem", "issued_at")
            .values(SQLBind(certificate.uuid), SQLBind(certificate.epoch), SQLBind(certificate.pem), SQLBind(certificate.issuedAt)).run()
    }
}
