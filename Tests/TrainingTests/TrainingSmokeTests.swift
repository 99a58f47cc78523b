import XCTest
@testable import Training

final class TrainingSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertNotNil(Training.self)
    }
}
