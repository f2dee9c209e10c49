import EmberCore
import Foundation
import Testing

/// Registration-body validation with FireFly's messages, and the UUID, product-hex and MAC parsers.
struct WireTests {
    static func validBody() throws -> [String: Any] {
        [
            "uuid": "5F8C2A3E-9D41-4B7A-8E20-1C6D3F9A0B12", "product_id": "FFC0806-2305", "product_hex": "0x08062305",
            "device_class": "CONTROLLER", "public_key": try MasterKey.random().publicKey().base64,
            "registering_application": "Hardware Registration and Configuration", "registering_version": "1.2.3",
            "mcu": [
                "model": "ESP32-D0WD-V3", "revision": 3, "cpu_freq_mhz": 240, "cores": 2, "flash_chip_size": 16_777_216,
                "flash_chip_speed": 80, "flash_chip_mode": "QIO", "psram_size": 4_194_304, "features": ["WiFi-bgn", "BLE"],
                "idf_version": "v4.4.7",
            ],
            "network": [["interface": "wifi", "mac_address": "de:ad:be:ef:fe:ed"]],
            "partitions": [["type": 1, "subtype": 2, "address": 36_864, "size": 20_480, "label": "nvs"]],
        ]
    }

    static func validate(_ body: [String: Any]) throws -> DeviceRegistration {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try WireDecoder.decode(RegistrationRequest.self, from: data).validated()
    }

    @Test func validBodyParses() throws {
        let registration = try Self.validate(Self.validBody())
        #expect(DeviceUUID.format(registration.uuid) == "5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12")
        #expect(registration.productHex.value == 0x0806_2305)
        #expect(registration.mcu.cores == 2)
        #expect(registration.network.count == 1)
    }

    @Test(arguments: [
        "uuid", "product_id", "product_hex", "device_class", "public_key", "registering_application", "registering_version", "mcu",
    ])
    func missingOrEmptyFieldIsRequired(field: String) throws {
        var body = try Self.validBody()
        body[field] = nil
        #expect(throws: WireError("\(field) is required")) { try Self.validate(body) }
        body[field] = field == "mcu" ? [String: Any]() : ""
        #expect(throws: WireError("\(field) is required")) { try Self.validate(body) }
        body[field] = NSNull()
        #expect(throws: WireError("\(field) is required")) { try Self.validate(body) }
    }

    @Test func requiredFieldsAreCheckedInFireFlysOrder() throws {
        #expect(throws: WireError("uuid is required")) { try Self.validate([:]) }
        #expect(throws: WireError("product_hex is required")) {
            try Self.validate(["uuid": "x", "product_id": "p", "public_key": "k"])
        }
    }

    @Test(
        arguments: [
            ("uuid", "not-a-uuid", WireError.invalidUUID), ("uuid", "5f8c2a3e9d414b7a8e201c6d3f9a0b12", .invalidUUID),
            ("uuid", "{5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12}", .invalidUUID), ("product_hex", "0x0806230", .invalidProductHex),
            ("product_hex", "0X08062305", .invalidProductHex), ("product_hex", "0x0806230G", .invalidProductHex),
            ("product_hex", "08062305", .invalidProductHex), ("public_key", "not base64", .invalidPublicKey),
            ("public_key", Data(count: 65).base64EncodedString(), .invalidPublicKey),
            ("public_key", Data([4] + [UInt8](repeating: 1, count: 64)).base64EncodedString(), .invalidPublicKey),
        ] as [(String, String, WireError)]
    )
    func malformedFieldsGiveFireFlysMessages(field: String, value: String, error: WireError) throws {
        var body = try Self.validBody()
        body[field] = value
        #expect(throws: error) { try Self.validate(body) }
    }

    @Test func fireFlyMessagesAreExact() {
        #expect(WireError.invalidUUID.message == "uuid must be a valid UUID")
        #expect(WireError.invalidProductHex.message == "product_hex must match 0xXXXXXXXX")
        #expect(WireError.invalidPublicKey.message == "public_key must be a Base64-encoded uncompressed P-256 point (65 bytes, prefix 0x04)")
        #expect(WireError.registrationKeyHeader.message == "X-Registration-Key header is required and must be 6 characters")
    }

    @Test(arguments: [
        ("uuid", "42", "uuid must be a string"), ("mcu", "\"esp32\"", "mcu must be an object"),
        ("network", "\"wifi\"", "network must be an array"), ("product_id", "[\"a\"]", "product_id must be a string"),
        ("mcu", "{\"cores\": \"two\"}", "mcu.cores must be an integer"),
        ("mcu", "{\"features\": [1]}", "mcu.features[0] must be a string"),
        ("network", "[{\"interface\": \"wifi\"}]", "network[0].mac_address is required"),
        (
            "network", "[{\"interface\": \"wifi\", \"mac_address\": \"zz\"}]",
            "network[0].mac_address must be a MAC address like AA:BB:CC:DD:EE:FF"
        ),
        ("partitions", "[{\"type\": 1}]", "partitions[0].subtype is required"),
        ("partitions", "[null]", "partitions[0] must be an object, not null"),
        ("registering_version", "\"\(String(repeating: "v", count: 129))\"", "registering_version must be at most 128 characters"),
    ])
    func wrongTypesNameTheField(field: String, json: String, message: String) throws {
        var body = try Self.validBody()
        body[field] = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        #expect(throws: WireError(message)) { try Self.validate(body) }
    }

    @Test func nonObjectBodiesAreRejectedClearly() {
        for text in ["", "[]", "42", "{", "not json", "null"] {
            #expect(throws: WireError.self) { try WireDecoder.decode(RegistrationRequest.self, from: Data(text.utf8)) }
        }
    }

    @Test func registrationKeyHeaderRules() throws {
        #expect(try RegistrationKey.fromHeader("ab12cd") == "AB12CD")
        for bad in [nil, "", "ABC", "ABCDEFG"] as [String?] {
            #expect(throws: WireError.registrationKeyHeader) { try RegistrationKey.fromHeader(bad) }
        }
        #expect(RegistrationKey.masked("AB12CD") == "AB****")
        for _ in 0..<200 {
            let key = RegistrationKey.generate()
            #expect(key.count == 6 && key.utf8.allSatisfy { RegistrationKey.alphabet.contains($0) })
        }
    }

    @Test func uuidParsesTextAndRawBytes() throws {
        let uuid = try #require(DeviceUUID.parse("5F8C2A3E-9d41-4b7a-8e20-1c6d3f9a0b12"))
        #expect(DeviceUUID.format(uuid) == "5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b12")
        let bytes = DeviceUUID.bytes(of: uuid)
        #expect(bytes.first == 0x5F && bytes.last == 0x12 && bytes.count == 16)
        #expect(DeviceUUID.from(bytes: bytes) == uuid)
        #expect(DeviceUUID.from(bytes: bytes.dropLast()) == nil)
        for bad in ["", "5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b1", "5f8c2a3e-9d41-4b7a-8e20_1c6d3f9a0b12", "5f8c2a3e-9d41-4b7a-8e20-1c6d3f9a0b1g"] {
            #expect(DeviceUUID.parse(bad) == nil)
        }
    }

    @Test func productHexParsesFormatsAndDerivesTheProductID() throws {
        let hex = try #require(ProductHex("0x32322603"))
        #expect(hex.value == 0x3232_2603)
        #expect(hex.productID == "FFC3232-2603")
        #expect(ProductHex("0x0806a3fF")?.description == "0x0806A3FF")
        #expect(ProductHex(0x0806_2305).littleEndianBytes == [0x05, 0x23, 0x06, 0x08])
        #expect(ProductHex(littleEndian: [0x05, 0x23, 0x06, 0x08]) == ProductHex(0x0806_2305))
        #expect(ProductHex(littleEndian: [0x05]) == nil)
        for bad in ["", "0x", "0x123456789", "0x1234567", "1x12345678", "0x1234567z"] { #expect(ProductHex(bad) == nil) }
    }

    @Test func macAddressesParseAndPrintUpperCase() throws {
        #expect(MACAddress("de:ad:be:ef:fe:ed")?.description == "DE:AD:BE:EF:FE:ED")
        #expect(MACAddress("DE-AD-BE-EF-FE-ED")?.description == "DE:AD:BE:EF:FE:ED")
        #expect(MACAddress(bytes: [1, 2, 3, 4, 5, 6])?.description == "01:02:03:04:05:06")
        for bad in ["", "de:ad:be:ef:fe", "de:ad:be:ef:fe:eg", "de:ad-be:ef:fe:ed", "dead.beef.feed", "de:ad:be:ef:fe:ed:00"] {
            #expect(MACAddress(bad) == nil)
        }
        #expect(MACAddress(bytes: [1, 2]) == nil)
    }
}
