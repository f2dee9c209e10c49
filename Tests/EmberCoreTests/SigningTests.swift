import EmberCore
import Foundation
import Testing

/// Timestamps, the acceptance window and signature-header parsing.
struct SigningTests {
    @Test(
        arguments: [
            ("1970-01-01T00:00:00Z", 0), ("2025-05-09T12:00:00Z", 1_746_792_000), ("2000-02-29T23:59:59Z", 951_868_799),
            ("2026-01-01T12:34:50Z", 1_767_270_890), ("9999-12-31T23:59:59Z", 253_402_300_799),
        ] as [(String, Int64)]
    )
    func timestampParsesAndFormats(text: String, epoch: Int64) throws {
        let timestamp = try #require(DeviceTimestamp(text))
        #expect(timestamp.epochSeconds == epoch)
        #expect(DeviceTimestamp(epochSeconds: epoch).text == text)
    }

    @Test(arguments: [
        "", "2025-05-09T12:00:00", "2025-05-09T12:00:00z", "2025-05-09 12:00:00Z", "2025-05-09T12:00:00.5Z",
        "2025-05-09T12:00:00+00:00", "2025-13-09T12:00:00Z", "2025-02-29T12:00:00Z", "2025-04-31T12:00:00Z",
        "2025-05-09T24:00:00Z", "2025-05-09T12:60:00Z", "2025-05-09T12:00:60Z", "2025-00-09T12:00:00Z",
        "2025-05-00T12:00:00Z", "+025-05-09T12:00:00Z", "2025-05-09T12:0a:00Z", "２025-05-09T12:00:00Z",
    ])
    func malformedTimestampsAreRejected(text: String) {
        #expect(DeviceTimestamp(text) == nil)
    }

    @Test func everyDayRoundTripsThroughText() {
        var epoch: Int64 = -86_400 * 400
        while epoch < 86_400 * 365 * 100 {
            let text = DeviceTimestamp(epochSeconds: epoch).text
            #expect(DeviceTimestamp(text)?.epochSeconds == epoch)
            epoch += 86_400 * 3 + 3_661
        }
    }

    @Test func windowIsInclusiveTenSeconds() {
        let now = DeviceTimestamp(epochSeconds: 1_000_000)
        let window = SignatureWindow.standard
        #expect(window.contains(DeviceTimestamp(epochSeconds: 1_000_010), now: now))
        #expect(window.contains(DeviceTimestamp(epochSeconds: 999_990), now: now))
        #expect(!window.contains(DeviceTimestamp(epochSeconds: 1_000_011), now: now))
        #expect(!window.contains(DeviceTimestamp(epochSeconds: 999_989), now: now))
    }

    static let nonce = Data(repeating: 7, count: 32).base64EncodedString()
    static let signature = Data(repeating: 1, count: 70).base64EncodedString()

    @Test(
        arguments: [
            (nil, nonce, "2025-05-09T12:00:00Z", signature, nil, DeviceAuthError.missingHeaders),
            ("u", nil, "2025-05-09T12:00:00Z", signature, nil, .missingHeaders),
            ("u", nonce, nil, signature, nil, .missingHeaders),
            ("u", nonce, "2025-05-09T12:00:00Z", nil, nil, .missingHeaders),
            ("u", "", "2025-05-09T12:00:00Z", signature, nil, .missingHeaders),
            ("u", "%%%", "2025-05-09T12:00:00Z", signature, nil, .invalidBase64),
            ("u", nonce, "2025-05-09T12:00:00Z", "not base64", nil, .invalidBase64),
            ("u", Data(count: 31).base64EncodedString(), "2025-05-09T12:00:00Z", signature, nil, .nonceLength),
            ("u", Data(count: 33).base64EncodedString(), "2025-05-09T12:00:00Z", signature, nil, .nonceLength),
            ("u", nonce, "yesterday", signature, nil, .invalidTimestamp),
            ("u", nonce, "2025-05-09T12:00:00Z", signature, "3", .unsupportedVersion),
            ("u", nonce, "2025-05-09T12:00:00Z", signature, "", .unsupportedVersion),
        ] as [(String?, String?, String?, String?, String?, DeviceAuthError)]
    )
    func malformedHeadersGiveTypedErrors(
        uuid: String?,
        nonce: String?,
        timestamp: String?,
        signature: String?,
        version: String?,
        error: DeviceAuthError
    ) {
        #expect(throws: error) {
            try SignedRequest(uuid: uuid, nonce: nonce, timestamp: timestamp, signature: signature, version: version)
        }
    }

    @Test func messagesAreFireFlysExactText() {
        #expect(
            DeviceAuthError.missingHeaders.message
                == "X-Device-UUID, X-Device-Nonce, X-Device-Timestamp, and X-Device-Signature headers are required"
        )
        #expect(DeviceAuthError.invalidBase64.message == "X-Device-Nonce and X-Device-Signature must be valid Base64")
        #expect(DeviceAuthError.nonceLength.message == "X-Device-Nonce must be 32 bytes")
        #expect(DeviceAuthError.invalidTimestamp.message == "X-Device-Timestamp must be ISO 8601 UTC (e.g. 2025-05-09T12:00:00Z)")
        #expect(DeviceAuthError.uuidMismatch.message == "X-Device-UUID header does not match path parameter")
        #expect(DeviceAuthError.outsideWindow.message == "X-Device-Timestamp is outside the acceptance window")
        #expect(DeviceAuthError.badSignature.message == "Signature verification failed")
        #expect(DeviceAuthError.unknownDevice.message == "Device not registered")
    }

    @Test func randomHeaderValuesNeverCrashTheParsers() throws {
        var generator = SystemRandomNumberGenerator()
        let key = try MasterKey.random().publicKey()
        for _ in 0..<2_000 {
            func junk() -> String {
                let bytes = (0..<Int(generator.next(upperBound: UInt64(100)))).map { _ in UInt8.random(in: 0...255, using: &generator) }
                return Bool.random(using: &generator) ? Data(bytes).base64EncodedString() : String(decoding: bytes, as: UTF8.self)
            }
            let signatureBytes = (0..<Int(generator.next(upperBound: UInt64(80)))).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if let request = try? SignedRequest(
                uuid: junk(),
                nonce: Data(count: 32).base64EncodedString(),
                timestamp: "2025-05-09T12:00:00Z",
                signature: Data(signatureBytes).base64EncodedString(),
                version: nil
            ) {
                #expect(!request.isValid(for: key, method: "GET", path: "/", bodySHA256Hex: ""))
            }
            _ = try? SignedRequest(uuid: junk(), nonce: junk(), timestamp: junk(), signature: junk(), version: junk())
            _ = DeviceTimestamp(junk())
            _ = try? DevicePublicKey(base64: junk())
        }
    }
}
