/// The factory test's outcome as the registration body and the manufacturing record carry it.
public struct FactoryTestSummary: Codable, Sendable, Equatable {
    public var passed: Bool?
    /// When the suite ran, epoch seconds.
    public var ranAt: Int64?
    /// The names of the checks that failed.
    public var failed: [String]?

    public init(passed: Bool?, ranAt: Int64?, failed: [String]?) {
        self.passed = passed
        self.ranAt = ranAt
        self.failed = failed
    }

    enum CodingKeys: String, CodingKey {
        case passed, failed
        case ranAt = "ran_at"
    }
}

/// Ember's manufacturing fields of a registration (FireFly's cloud ignores them), validated.
public struct ManufacturingFields: Sendable, Equatable {
    public var region: String?
    public var fleetID: String?
    public var firmwareVersion: String?
    public var factoryTest: FactoryTestSummary?

    public init(region: String? = nil, fleetID: String? = nil, firmwareVersion: String? = nil, factoryTest: FactoryTestSummary? = nil) {
        self.region = region
        self.fleetID = fleetID
        self.firmwareVersion = firmwareVersion
        self.factoryTest = factoryTest
    }

    /// Why a region is refused: at most 32 of `a-z`, `0-9` and `-` (lifecycle §4).
    public static func regionProblem(_ value: String) -> String? {
        value.unicodeScalars.count <= 32 && value.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
            ? nil : "must be at most 32 of a-z, 0-9 and -"
    }

    /// Why a fleet id is refused: at most 64 of `A-Z`, `a-z`, `0-9`, `.`, `_` and `-`.
    public static func fleetIDProblem(_ value: String) -> String? {
        value.unicodeScalars.count <= 64
            && value.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
            })
            ? nil : "must be at most 64 of A-Z, a-z, 0-9, '.', '_' and '-'"
    }

    /// The fields of `request`, checked; empty strings count as not given.
    static func of(_ request: RegistrationRequest) throws(WireError) -> ManufacturingFields {
        let region = request.region.flatMap { $0.isEmpty ? nil : $0 }
        let fleet = request.fleetID.flatMap { $0.isEmpty ? nil : $0 }
        if let region, let problem = regionProblem(region) { throw WireError("region \(problem)") }
        if let fleet, let problem = fleetIDProblem(fleet) { throw WireError("fleet_id \(problem)") }
        if let version = request.firmwareVersion, version.unicodeScalars.count > RegistrationRequest.maximumFieldLength {
            throw WireError("firmware_version must be at most \(RegistrationRequest.maximumFieldLength) characters")
        }
        if let test = request.factoryTest {
            guard test.passed != nil else { throw WireError("factory_test.passed is required (true or false)") }
            let failed = test.failed ?? []
            guard failed.count <= 16, failed.allSatisfy({ !$0.isEmpty && $0.count <= 64 }) else {
                throw WireError("factory_test.failed must hold at most 16 check names of 1 to 64 characters")
            }
            if let ranAt = test.ranAt, ranAt < 0 { throw WireError("factory_test.ran_at must be epoch seconds") }
        }
        return ManufacturingFields(
            region: region,
            fleetID: fleet,
            firmwareVersion: request.firmwareVersion.flatMap { $0.isEmpty ? nil : $0 },
            factoryTest: request.factoryTest
        )
    }
}
