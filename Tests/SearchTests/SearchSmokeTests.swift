import XCTest
@testable import Search

final class SearchSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertNotNil(Search.self)
    }
}
