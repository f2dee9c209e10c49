import EmberCore
import Hummingbird

extension AuditPage: ResponseEncodable {}
extension DeviceCertificateReply: ResponseEncodable {}
extension OnboardingRoot: ResponseEncodable {}
extension OnboardingRootList: ResponseEncodable {}
extension Preregistration: ResponseEncodable {}
extension PreregistrationPage: ResponseEncodable {}
extension RegistrationKeyCreated: ResponseEncodable {}
extension DeviceRecord: ResponseEncodable {}
extension DevicePage: ResponseEncodable {}
extension RegistrationKeyList: ResponseEncodable {}
extension RegistrationStatus: ResponseEncodable {}
extension MessageBody: ResponseEncodable {}
extension BackupDeleted: ResponseEncodable {}
extension CheckInReply: ResponseEncodable {}
extension DeviceAction: ResponseEncodable {}
extension ActionList: ResponseEncodable {}
extension DecommissionAcknowledged: ResponseEncodable {}
extension KeyAccepted: ResponseEncodable {}

/// `?limit=` of list routes: 1…1000, default 100.
func pageLimit(_ request: Request) throws -> Int {
    guard let text = request.uri.queryParameters["limit"] else { return 100 }
    guard let limit = Int(text), (1...1_000).contains(limit) else {
        throw RegistryError.badRequest("limit must be an integer from 1 to 1000")
    }
    return limit
}
