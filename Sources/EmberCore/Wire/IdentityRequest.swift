import Foundation

/// The HW-Reg `POST /api/identity` body: what the operator asks to burn into eFuse BLOCK1.
public struct IdentityRequest: Codable, Sendable, Equatable {
    public var uuid: String?
    public var productID: String?
    public var productHex: String?
    /// Ember: the initial configuration written in the same step (lifecycle §5).
    public var region: String?
    public var fleetID: String?

    enum CodingKeys: String, CodingKey {
        case uuid, region
        case productID = "product_id"
        case productHex = "product_hex"
        case fleetID = "fleet_id"
    }

    /// A body with these fields.
    public init(uuid: String?, productID: String?, productHex: String?, region: String? = nil, fleetID: String? = nil) {
        self.uuid = uuid
        self.productID = productID
        self.productHex = productHex
        self.region = region
        self.fleetID = fleetID
    }

    /// The identity to burn, checked in FireFly's order with its messages; stricter than FireFly where a burn
    /// could otherwise go wrong for good: UUID group lengths, the all-zero UUID (reads back as blank) and a
    /// `product_id` that is not the one `product_hex` derives.
    public func validated() throws(WireError) -> (uuid: UUID, productHex: ProductHex) {
        guard let uuid else { throw WireError("Field uuid is required") }
        guard uuid.count == 36 else { throw WireError("Field uuid is not exactly 36 characters") }
        guard uuid == uuid.lowercased(), let parsed = DeviceUUID.parse(uuid), DeviceUUID.bytes(of: parsed).contains(where: { $0 != 0 })
        else { throw WireError("Invalid uuid, see docs") }
        guard let productID else { throw WireError("Field product_id is required") }
        guard productID.unicodeScalars.count <= 32 else { throw WireError("Field product_id is greater than 32 characters, see docs") }
        guard let productHex else { throw WireError("Field product_hex is required") }
        guard productHex.count == 10 else { throw WireError("Field product_hex must be exactly 10 characters") }
        guard let hex = ProductHex(productHex), hex.value != 0 else { throw WireError("Invalid product_hex, see docs") }
        guard productID == hex.productID else {
            throw WireError("Field product_id does not match product_hex (\(hex) is \(hex.productID)), see docs")
        }
        if let region, let problem = ManufacturingFields.regionProblem(region) { throw WireError("Field region \(problem)") }
        if let fleetID, let problem = ManufacturingFields.fleetIDProblem(fleetID) { throw WireError("Field fleet_id \(problem)") }
        return (parsed, hex)
    }
}
