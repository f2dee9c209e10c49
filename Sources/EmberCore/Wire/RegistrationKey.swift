/// Registration keys: 6 characters from `A–Z0–9`, single use, short-lived.
public enum RegistrationKey {
    /// Length of a key.
    public static let length = 6
    /// The key alphabet.
    public static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    /// A fresh key from the system CSPRNG (uniform over the alphabet).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let chars = (0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return String(decoding: chars, as: UTF8.self)
    }

    /// Checks the `X-Registration-Key` header (FireFly: present and 6 characters); returns it upper-cased.
    public static func fromHeader(_ value: String?) throws(WireError) -> String {
        guard let value, value.count == length else { throw .registrationKeyHeader }
        return value.uppercased()
    }

    /// The key shown with all but its first 2 characters masked, for logs and audit rows.
    public static func masked(_ key: String) -> String {
        String(key.prefix(2)) + String(repeating: "*", count: max(0, key.count - 2))
    }
}
