import EmberCore
import Foundation
import Yams

/// One FireFly product: what a board of this kind must have.
public struct Product: Sendable, Equatable {
    /// Whether the product is still built.
    public enum Status: String, Sendable, Codable {
        case active = "ACTIVE"
        case inactive = "INACTIVE"
        case retired = "RETIRED"
    }

    public let productHex: ProductHex
    public let productID: String
    public let status: Status
    public let inputsCount: Int
    public let outputsCount: Int
    /// W5500 boards: lock VDD_SDIO at 3.3 V with three eFuses on first boot.
    public let burnVDDSDIOFuses: Bool
    /// The peripherals a board must answer on, in `GET /api/peripherals` order (without the constant NVS row).
    public let peripherals: [Peripheral]
    /// The partition table the firmware expects, in table order.
    public let partitions: [PartitionEntry]
}

/// The products Ember knows, from the bundled `products.yaml` (FireFly's devices.yaml facts plus I2C addresses).
public struct ProductCatalog: Sendable {
    /// A catalog failure: a product Ember does not know, or a broken catalog file.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let products: [Product]

    /// The catalog compiled into Ember (`Resources/products.yaml`; a test parses it, so it cannot be broken here).
    public static let bundled: ProductCatalog = {
        do {
            return try ProductCatalog(yaml: EmbeddedResource.productsYAML)
        } catch {
            fatalError("the built-in product catalog is broken: \(error)")
        }
    }()

    /// Parses a catalog in the `products.yaml` format.
    public init(yaml: String) throws {
        let file: CatalogFile
        do {
            file = try YAMLDecoder().decode(CatalogFile.self, from: yaml)
        } catch {
            throw Failure(description: "the product catalog does not parse: \(error)")
        }
        self.products = try file.products.map { try $0.product() }
    }

    /// The product with this hex code.
    public func product(_ hex: ProductHex) throws -> Product {
        guard let product = products.first(where: { $0.productHex == hex }) else {
            throw Failure(description: "unknown product \(hex); known products: \(known)")
        }
        return product
    }

    /// The product with this id (`FFC0806-2305`) or hex code (`0x08062305`), any case.
    public func product(named name: String) throws -> Product {
        if let hex = ProductHex(name) { return try product(hex) }
        guard let product = products.first(where: { $0.productID.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw Failure(description: "unknown product '\(name)'; known products: \(known)")
        }
        return product
    }

    private var known: String {
        products.map { "\($0.productID) (\($0.productHex), \($0.status.rawValue.lowercased()))" }.joined(separator: ", ")
    }
}

private struct CatalogFile: Decodable {
    struct Entry: Decodable {
        struct Addresses: Decodable {
            var inputs: [String]
            var outputs: [String]
            var temperature: [String]
            var oled: [String]
        }

        struct Partition: Decodable {
            var type: Int
            var subtype: Int
            var address: String
            var size: String
            var label: String
        }

        var productHex: String
        var productID: String
        var status: Product.Status
        var inputsCount: Int
        var outputsCount: Int
        var burnVDDSDIOEfuse: Bool?
        var peripherals: Addresses
        var partitionScheme: [Partition]

        enum CodingKeys: String, CodingKey {
            case productHex = "product_hex"
            case productID = "product_id"
            case status
            case inputsCount = "inputs_count"
            case outputsCount = "outputs_count"
            case burnVDDSDIOEfuse = "burn_vdd_sdio_efuse"
            case peripherals
            case partitionScheme = "partition_scheme"
        }

        func product() throws -> Product {
            guard let hex = ProductHex(productHex) else { throw ProductCatalog.Failure(description: "bad product_hex '\(productHex)'") }
            func addresses(_ texts: [String], _ kind: Peripheral.Kind) throws -> [Peripheral] {
                try texts.map {
                    guard let address = Self.hex($0), address <= 0x7F else {
                        throw ProductCatalog.Failure(description: "\(productID): bad I2C address '\($0)'")
                    }
                    return Peripheral(address: UInt8(address), kind: kind, online: true)
                }
            }
            let partitions = try partitionScheme.map { row in
                guard let address = Self.hex(row.address), let size = Self.hex(row.size) else {
                    throw ProductCatalog.Failure(description: "\(productID): bad partition '\(row.label)'")
                }
                return PartitionEntry(type: row.type, subtype: row.subtype, address: address, size: size, label: row.label)
            }
            return Product(
                productHex: hex,
                productID: productID,
                status: status,
                inputsCount: inputsCount,
                outputsCount: outputsCount,
                burnVDDSDIOFuses: burnVDDSDIOEfuse ?? false,
                peripherals: try addresses(peripherals.inputs, .input) + addresses(peripherals.outputs, .output)
                    + addresses(peripherals.temperature, .temperature) + addresses(peripherals.oled, .oled),
                partitions: partitions
            )
        }

        static func hex(_ text: String) -> Int? {
            guard text.lowercased().hasPrefix("0x") else { return nil }
            return Int(text.dropFirst(2), radix: 16)
        }
    }

    var products: [Entry]
}
