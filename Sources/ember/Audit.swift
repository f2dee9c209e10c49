import ArgumentParser
import EmberClient
import EmberCore

/// `ember audit`: the audit log over the admin API (admin role).
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit log, oldest first, filtered by action and actor (admin role)."
    )
    @OptionGroup var options: ServerOptions
    @Option(help: "Only rows with this action, e.g. device.registered or key.minted.") var action: String?
    @Option(help: "Only rows by this actor: a token name, device:<uuid> or cli:<user>.") var actor: String?
    @Option(help: "Rows after this id (the next_after of the previous page).") var after: Int64?
    @Option(help: "Rows to show, 1…1000.") var limit = 100

    func validate() throws {
        guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be 1…1000") }
        for (name, value) in [("--action", action), ("--actor", actor)] {
            if let value, !(1...128).contains(value.count) { throw ValidationError("\(name) must be 1…128 characters") }
        }
    }

    func run() async throws {
        let page = try await options.call { try await $0.audit(limit: limit, after: after, action: action, actor: actor) }
        if options.json {
            print(try JSONOutput.encode(page))
            return
        }
        print(
            Table.render(
                headers: ["ID", "AT", "ACTOR", "ACTION", "SUBJECT", "DETAIL"],
                rows: page.entries.map { [String($0.id), Table.time($0.at), $0.actor, $0.action, $0.subject, $0.detail] }
            )
        )
        if let next = page.nextAfter { print("more: --after \(next)") }
    }
}
