import EmberCore
import EmberDevice
import EmberTestSupport
import Foundation
import Testing
import Yams

/// The simulated board: OTP eFuse semantics, atomic identity burns, VDD_SDIO per product, the catalog.
struct BoardTests {
    @Test func efuseBitsOnlyGoFromZeroToOne() {
        var image = EFuseImage()
        #expect(image.isBlank(.block1) && image.isBlank(.block3) && image.isBlank(.vddSDIO))
        for _ in 0..<200 {
            let region = EFuseImage.Region.allCases.randomElement()!
            let count = region == .vddSDIO ? 1 : 32
            let before = image.read(region)
            let bits = (0..<count).map { _ in UInt8.random(in: 0...255) }
            image.program(region, bits: bits)
            let after = image.read(region)
            for index in 0..<count {
                #expect(after[index] & before[index] == before[index], "a burned bit returned to 0")
                #expect(after[index] == before[index] | bits[index])
            }
        }
        var full = EFuseImage()
        full.program(.block1, bits: [UInt8](repeating: 0xFF, count: 32))
        full.program(.block1, bits: [UInt8](repeating: 0x00, count: 32))
        #expect(full.read(.block1).allSatisfy { $0 == 0xFF })
    }

    @Test func secondIdentityBurnIsRefusedWithoutChangingABit() async throws {
        try await withTemporaryFolder { folder in
            let board = try SimulatedBoard.create(product: ProductCatalog.bundled.product(named: "FFC0806-2305"), in: folder)
            #expect(try board.identity() == nil)
            #expect(throws: HardwareError.notProvisioned) { try board.deriveKey(.auth) }
            let first = IdentityBlock(uuid: UUID(), productHex: ProductHex(0x0806_2305))
            try board.burnIdentity(first, masterKey: .random())
            let image = try Data(contentsOf: folder.appendingPathComponent("efuse.bin"))
            let key = try board.deriveKey(.auth)

            #expect(throws: HardwareError.alreadyProvisioned) {
                try board.burnIdentity(IdentityBlock(uuid: UUID(), productHex: ProductHex(0x0806_2305)), masterKey: .random())
            }
            #expect(try Data(contentsOf: folder.appendingPathComponent("efuse.bin")) == image)
            #expect(try board.identity() == first)
            #expect(try SimulatedBoard.open(folder).identity() == first)
            #expect(try board.deriveKey(.auth) == key)
        }
    }

    @Test func powerLossDuringTheIdentityBurnLeavesTheChipBlank() async throws {
        try await withTemporaryFolder { folder in
            try SimulatedBoard.create(product: ProductCatalog.bundled.product(named: "FFC3232-2603"), in: folder)
            try SimulatedBoard.update(folder) { $0.faults.failNextEFuseWrite = true }
            let board = try SimulatedBoard.open(folder)
            let identity = IdentityBlock(uuid: UUID(), productHex: ProductHex(0x3232_2603))
            #expect(throws: HardwareError.self) { try board.burnIdentity(identity, masterKey: .random()) }
            let reopened = try SimulatedBoard.open(folder)
            #expect(try reopened.identity() == nil)
            #expect(throws: HardwareError.notProvisioned) { try reopened.deriveKey(.auth) }
            #expect(reopened.specification.faults.failNextEFuseWrite == false, "the fault is one-shot")
            try reopened.burnIdentity(identity, masterKey: .random())
            #expect(try reopened.identity() == identity)
        }
    }

    @Test(arguments: ProductCatalog.bundled.products)
    func vddSDIOFusesBurnOnFirstBootOnlyWhereTheCatalogSaysSo(product: Product) async throws {
        try await TestDevice.with(product: product.productID) { device in
            let board = await device.agent.board
            #expect(try board.vddSDIOFuses().allBurned == product.burnVDDSDIOFuses)
            try await device.agent.reboot()
            let burns = try await device.events().filter { $0.text == "VDD_SDIO fuses burned" }
            #expect(burns.count == (product.burnVDDSDIOFuses ? 1 : 0), "burned once, with one event")
            #expect(burns.allSatisfy { $0.level == .notify })
        }
    }

    @Test func catalogHoldsTheFactsOfFireFlysDevicesYAML() throws {
        let path = Fixtures.url("data/devices.yaml").path
        let yaml = try #require(try? String(contentsOfFile: path, encoding: .utf8), "devices.yaml not found at \(path)")
        let source = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        let devices = try #require(source["devices"] as? [[String: Any]])
        let catalog = ProductCatalog.bundled
        #expect(catalog.products.count == devices.count)
        for device in devices {
            let product = try catalog.product(named: try #require(device["product_hex"] as? String))
            #expect(product.productID == device["product_id"] as? String)
            #expect(product.status.rawValue == device["status"] as? String)
            #expect(product.inputsCount == device["inputs_count"] as? Int)
            #expect(product.outputsCount == device["outputs_count"] as? Int)
            #expect(product.burnVDDSDIOFuses == (device["burn_vdd_sdio_efuse"] as? Bool ?? false))
            let scheme = try #require(device["partition_scheme"] as? [[String: Any]])
            #expect(product.partitions.count == scheme.count)
            for (entry, row) in zip(product.partitions, scheme) {
                #expect(entry.label == row["label"] as? String)
                #expect(entry.type == row["type"] as? Int && entry.subtype == row["subtype"] as? Int)
                #expect("0x" + String(entry.address, radix: 16) == (row["address"] as? String)?.lowercased())
                #expect("0x" + String(entry.size, radix: 16) == (row["size"] as? String)?.lowercased())
            }
            let inputs = product.peripherals.filter { $0.kind == .input }.map(\.address)
            let outputs = product.peripherals.filter { $0.kind == .output }.map(\.address)
            if product.productID.hasPrefix("FFC0806") {
                #expect(inputs == [0x20, 0x21] && outputs == [0x40])
            } else {
                #expect(inputs == Array(0x20...0x27) && outputs == (product.productID == "FFC3232-2211" ? [0x40, 0x42] : [0x40, 0x41]))
            }
            #expect(product.peripherals.contains(Peripheral(address: 0x48, kind: .temperature, online: true)))
            #expect(product.peripherals.contains(Peripheral(address: 0x3C, kind: .oled, online: true)))
        }
    }

    @Test func unknownProductsGetAClearError() {
        #expect { try ProductCatalog.bundled.product(named: "0x12345678") } throws: { error in
            "\(error)".contains("unknown product 0x12345678") && "\(error)".contains("FFC0806-2305")
        }
        #expect { try ProductCatalog.bundled.product(named: "FFC9999-0000") } throws: { "\($0)".contains("unknown product 'FFC9999-0000'") }
        #expect(throws: (any Error).self) { try ProductCatalog(yaml: "products: [{product_hex: nope}]") }
    }

    @Test func configPartitionWritesAreAtomicAndLeftoversIgnored() async throws {
        try await withTemporaryFolder { folder in
            let partition = try ConfigPartition(folder: folder)
            try partition.write("backup.json", Data("one".utf8))
            try partition.write("backup.json", Data("two".utf8))
            #expect(try partition.read("backup.json") == Data("two".utf8))
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(files == ["backup.json"], "no temporary files left behind")
            try partition.remove("backup.json")
            try partition.remove("backup.json")
            #expect(try partition.read("backup.json") == nil)
        }
    }
}
