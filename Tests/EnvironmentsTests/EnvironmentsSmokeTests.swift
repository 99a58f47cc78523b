import XCTest
@testable import Environments

final class EnvironmentsSmokeTests: XCTestCase {
    func testLinkedMuJoCoIs222() {
        XCTAssertEqual(Environments.mujocoVersion, "2.2.2")
    }
}
