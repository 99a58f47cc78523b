import XCTest
@testable import Spiking

final class SpikingSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertNotNil(Spiking.self)
    }
}
