import EmberHTTP
import Hummingbird

extension VisualTokens {
    /// Accepts the request's `visual-token` (with `retain`, the displayed token becomes an hour-long authorization)
    /// or throws the refusal.
    func authorize(_ request: Request, _ context: HWRegContext, retain: Bool = false) throws(AgentFailure) {
        let decision = check(request.headers[.visualToken], client: context.clientAddress, retain: retain)
        guard decision == .accepted else { throw .visualToken(decision) }
    }
}
