import Foundation

/// Which devices a list or an export holds; nil fields do not filter.
public struct DeviceFilter: Sendable, Equatable {
    /// Only decommissioned ones (true), or only those in service (false).
    public var decommissioned: Bool?
    public var productHex: String?
    public var fleetID: String?
    public var region: String?
    /// The start of the UUID: lowercase hex digits and dashes only.
    public var uuidPrefix: String?
    /// Only this account's devices: set by the registry for a `user` token, never from the query.
    public var ownerAccount: String?

    public init(decommissioned: Bool? = nil, productHex: String? = nil, fleetID: String? = nil, region: String? = nil, uuidPrefix: String? = nil) {
        self.decommissioned = decommissioned
        self.productHex = productHex
        self.fleetID = fleetID
        self.region = region
        self.uuidPrefix = uuidPrefix
    }

    /// The query string of `GET /devices` and the export (`&`-joined, percent-encoded; empty when no filter).
    public var query: String {
        var items: [URLQueryItem] = []
        if let decommissioned { items.append(URLQueryItem(name: "state", value: decommissioned ? "decommissioned" : "registered")) }
        if let productHex { items.append(URLQueryItem(name: "product_hex", value: productHex)) }
        if let fleetID { items.append(URLQueryItem(name: "fleet_id", value: fleetID)) }
        if let region { items.append(URLQueryItem(name: "region", value: region)) }
        if let uuidPrefix { items.append(URLQueryItem(name: "q", value: uuidPrefix)) }
        var components = URLComponents()
        components.queryItems = items
        return components.percentEncodedQuery ?? ""
    }
}
