import Foundation
import XCTest

/// `satr bench search` runs, validates its options and prints the documented JSON fields.
final class BenchSearchCLITests: XCTestCase {
    func testJSONHasEveryPhaseForEveryOptimizer() throws {
        let result = try SATRProcess.run(["bench", "search", "--bits", "3000", "--population", "8", "--generations", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let rows = object?["optimizers"] as? [[String: Any]] ?? []
        XCTAssertEqual(rows.compactMap { $0["optimizer"] as? String }, ["EC", "SATR", "ES"], result.stdout)
        for row in rows {
            for key in ["sampleSeconds", "shapeSeconds", "statisticsSeconds", "updateSeconds", "totalSeconds", "overheadRatio"] {
                XCTAssertNotNil(row[key] as? Double, "\(key) missing in \(row)")
            }
        }
        XCTAssertEqual(object?["bits"] as? Int, 3000)
    }

    func testRejectsOddPopulation() throws {
        let result = try SATRProcess.run(["bench", "search", "--population", "7"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--population"), result.stderr)
    }
}
