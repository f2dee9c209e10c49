import EmberCore
import EmberDevice
import EmberFleet
import Testing

/// Simulated fleet devices register what their product's board would send.
struct SimulatedDeviceTests {
    @Test func theDefaultTableIsTheFirstCatalogProducts() throws {
        #expect(SimulatedDevice.defaultPartitions == (try ProductCatalog.bundled.product(named: "FFC0806-2305").partitions))
    }

    @Test(arguments: ProductCatalog.bundled.products)
    func aDeviceRegistersItsProductsPartitionTable(product: Product) throws {
        let device = SimulatedDevice(productHex: product.productHex)
        let body = try device.registrationBody(partitions: product.partitions)
        #expect(body.productHex == product.productHex.description)
        #expect(body.productID == product.productID)
        #expect(body.partitions == product.partitions)
    }
}
