import EmberCore
import Foundation
import SQLKit

extension SQLStore {
    static let actionColumns = [
        "id", "uuid", "type", "state", "reason", "config", "created_at", "created_by", "delivered_at", "completed_at", "detail",
    ]
    static let openStates = [ActionState.pending.rawValue, ActionState.delivered.rawValue]

    public func createAction(
        uuid: String,
        type: ActionType,
        reason: String,
        config: JSONValue?,
        now: Int64,
        by actor: AuditActor
    ) async throws -> ActionCreation {
        try await provider.transaction { db in
            guard let device = try await db.select().column("decommissioned_at").from("devices").where("uuid", .equal, uuid).first() else {
                return .unknownDevice
            }
            guard try device.decodeNil(column: "decommissioned_at") else { return .decommissioned }
            var audit: [AuditEvent] = []
            if type == .decommission {
                // The lock-out, the cancellations and the backup's deletion commit with the action, or not at all.
                audit += try await decommission(uuid: uuid, now: now, by: actor, on: db)
                audit.append(AuditEvent(at: now, by: actor, action: "device.decommissioned", subject: uuid, detail: reason))
            }
            guard
                let row = try await db.insert(into: "device_actions")
                    .columns("uuid", "type", "state", "reason", "config", "created_at", "created_by")
                    .values(
                        SQLBind(uuid),
                        SQLBind(type.rawValue),
                        SQLBind(ActionState.pending.rawValue),
                        SQLBind(reason),
                        SQLBind(config?.text),
                        SQLBind(now),
                        SQLBind(actor.actor)
                    )
                    .returning("id").first()
            else { throw StoreError.corruptRow("action id") }
            let action = DeviceAction(
                id: try row.decode(column: "id", as: Int64.self),
                uuid: uuid,
                type: type,
                state: .pending,
                reason: reason,
                config: config,
                createdAt: now,
                createdBy: actor.actor
            )
            audit.insert(
                AuditEvent(at: now, by: actor, action: "action.created", subject: uuid, detail: "\(type.rawValue) #\(action.id) \(reason)"),
                at: 0
            )
            try await insertAudit(audit, on: db)
            return .created(action)
        }
    }

    public func actions(uuid: String) async throws -> [DeviceAction]? {
        try await provider.read { db in
            guard try await db.select().column("uuid").from("devices").where("uuid", .equal, uuid).first() != nil else { return nil }
            return try await db.select().columns(Self.actionColumns).from("device_actions").where("uuid", .equal, uuid)
                .orderBy("id", .descending).all().map(Self.action)
        }
    }

    public func deliverActions(uuid: String, decommissioned: Bool, now: Int64) async throws -> [DeviceAction] {
        @Sendable func open(_ db: any SQLDatabase) async throws -> [DeviceAction] {
            var query = db.select().columns(Self.actionColumns).from("device_actions").where("uuid", .equal, uuid)
                .where("state", .in, Self.openStates)
            if decommissioned { query = query.where("type", .equal, ActionType.decommission.rawValue) }
            return try await query.orderBy("id", .ascending).all().map(Self.action)
        }
        // The common check-in has nothing open: one indexed read, no write.
        let found = try await provider.read { db in try await open(db) }
        guard found.contains(where: { $0.state == .pending }) else { return found }
        return try await provider.transaction { db in
            var update = db.update("device_actions").set("state", to: ActionState.delivered.rawValue).set("delivered_at", to: now)
                .where("uuid", .equal, uuid).where("state", .equal, ActionState.pending.rawValue)
            if decommissioned { update = update.where("type", .equal, ActionType.decommission.rawValue) }
            try await update.run()
            return try await open(db)
        }
    }

    public func cancelAction(uuid: String, id: Int64, now: Int64, by actor: AuditActor) async throws -> ActionCancellation {
        try await provider.transaction { db in
            let cancelled = try await db.update("device_actions").set("state", to: ActionState.cancelled.rawValue)
                .set("completed_at", to: now).set("detail", to: "cancelled by \(actor.actor)")
                .where("id", .equal, id).where("uuid", .equal, uuid).where("state", .equal, ActionState.pending.rawValue)
                .returning("type").first()
            if let cancelled {
                let type = try cancelled.decode(column: "type", as: String.self)
                try await insertAudit(
                    [AuditEvent(at: now, by: actor, action: "action.cancelled", subject: uuid, detail: "\(type) #\(id)")],
                    on: db
                )
                return .cancelled
            }
            guard
                let row = try await db.select().column("state").from("device_actions").where("id", .equal, id)
                    .where("uuid", .equal, uuid).first()
            else { return .notFound }
            return try row.decode(column: "state", as: String.self) == ActionState.cancelled.rawValue ? .alreadyCancelled : .alreadyDelivered
        }
    }

    public func completeAction(
        uuid: String,
        id: Int64,
        state: ActionState,
        detail: String,
        now: Int64,
        by actor: AuditActor
    ) async throws -> ActionCompletion {
        try await provider.transaction { db in
            let completed = try await db.update("device_actions").set("state", to: state.rawValue).set("completed_at", to: now)
                .set("detail", to: detail).where("id", .equal, id).where("uuid", .equal, uuid).where("state", .in, Self.openStates)
                .returning("type").first()
            if let completed {
                let type = try completed.decode(column: "type", as: String.self)
                try await insertAudit(
                    [
                        AuditEvent(
                            at: now,
                            by: actor,
                            action: "action.\(state.rawValue)",
                            subject: uuid,
                            detail: "\(type) #\(id)\(detail.isEmpty ? "" : ": \(detail)")"
                        )
                    ],
                    on: db
                )
                return .recorded
            }
            guard
                let row = try await db.select().columns("state", "detail").from("device_actions").where("id", .equal, id)
                    .where("uuid", .equal, uuid).first()
            else { return .notFound }
            let same =
                try row.decode(column: "state", as: String.self) == state.rawValue
                && (try row.decode(column: "detail", as: String?.self) ?? "") == detail
            return same ? .repeated : .conflict
        }
    }

    static func action(_ row: any SQLRow) throws -> DeviceAction {
        let type = try row.decode(column: "type", as: String.self)
        let state = try row.decode(column: "state", as: String.self)
        guard let actionType = ActionType(rawValue: type), let actionState = ActionState(rawValue: state) else {
            throw StoreError.corruptRow("action type or state")
        }
        return DeviceAction(
            id: try row.decode(column: "id", as: Int64.self),
            uuid: try row.decode(column: "uuid", as: String.self),
            type: actionType,
            state: actionState,
            reason: try row.decode(column: "reason", as: String.self),
            config: try row.decode(column: "config", as: String?.self).flatMap { JSONValue(text: $0) },
            createdAt: try row.decode(column: "created_at", as: Int64.self),
            createdBy: try row.decode(column: "created_by", as: String.self),
            deliveredAt: try row.decode(column: "delivered_at", as: Int64?.self),
            completedAt: try row.decode(column: "completed_at", as: Int64?.self),
            detail: try row.decode(column: "detail", as: String?.self)
        )
    }
}
