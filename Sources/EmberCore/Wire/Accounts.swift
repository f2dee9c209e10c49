import Foundation

/// The characters of tokens a person reads off a screen or types: no look-alikes (the OLED's visual token, claim
/// tokens).
public enum VisualAlphabet {
    public static let characters: [Character] = Array("ACDEFGHJKLMNPRTUVWXY3467")
}

/// Claim tokens (lifecycle §7): 8 characters of the visual alphabet, single use, 15 minutes.
public enum ClaimToken {
    public static let length = 8
    public static let lifetime: Int64 = 900

    /// A fresh token from the system CSPRNG (uniform over the alphabet).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = VisualAlphabet.characters
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// The token as typed, upper-cased; or why it cannot be one.
    public static func normalized(_ text: String?) throws(WireError) -> String {
        guard let text, !text.isEmpty else { throw WireError("Field claim_token is required") }
        let token = text.uppercased()
        guard token.count == length, token.allSatisfy(VisualAlphabet.characters.contains) else {
            throw WireError("Field claim_token must be \(length) characters of \(String(VisualAlphabet.characters))")
        }
        return token
    }
}

/// A registry account.
public struct Account: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Int64?
    public var createdBy: String?

    enum CodingKeys: String, CodingKey {
        case id, name
        case createdAt = "created_at"
        case createdBy = "created_by"
    }

    public init(id: String, name: String, createdAt: Int64? = nil, createdBy: String? = nil) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// `POST /accounts`.
public struct AccountRequest: Codable, Sendable {
    public var name: String?
    public init(name: String?) { self.name = name }

    /// Why an account name is refused: 1 to 64 characters, no control characters.
    public static func nameProblem(_ name: String) -> String? {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(trimmed.unicodeScalars.count), trimmed == name,
            !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { return "must be 1 to 64 characters without leading or trailing spaces or control characters" }
        return nil
    }
}

/// `POST /claim-tokens`' answer.
public struct ClaimTokenCreated: Codable, Sendable, Equatable {
    public var claimToken: String
    public var expiresAt: Int64

    enum CodingKeys: String, CodingKey {
        case claimToken = "claim_token"
        case expiresAt = "expires_at"
    }

    public init(claimToken: String, expiresAt: Int64) {
        self.claimToken = claimToken
        self.expiresAt = expiresAt
    }
}

/// `POST /devices/{uuid}/claim`'s body and answer.
public struct ClaimRequest: Codable, Sendable {
    public var claimToken: String?
    enum CodingKeys: String, CodingKey { case claimToken = "claim_token" }
    public init(claimToken: String?) { self.claimToken = claimToken }
}

public struct ClaimReply: Codable, Sendable, Equatable {
    public var accountID: String
    enum CodingKeys: String, CodingKey { case accountID = "account_id" }
    public init(accountID: String) { self.accountID = accountID }
}
