import Foundation
import XCTest

/// `satr export --format nir` and `satr raster` as a user runs them (the NIR file's contents are
/// checked with the `nir` Python package by scripts/test-nir.sh).
final class AnalysisCLITests: ScratchDirectoryTestCase {

    func trainTiny() throws -> String {
        let dir = root.appendingPathComponent("run").path
        let train = try SATRProcess.run(["train", "--env", "InvertedPendulum-v5", "--population", "16", "--neurons", "64",
                                         "--generations", "2", "--eval-every", "2", "--eval-episodes", "1", "--seed", "3",
                                         "--threads", "2", "--out", dir])
        XCTAssertEqual(train.status, 0, train.stderr)
        return dir
    }

    func testExportNIRWritesAnHDF5FileAndRefusesBadArguments() throws {
        let dir = try trainTiny()
        let out = root.appendingPathComponent("policy.nir").path
        let export = try SATRProcess.run(["export", dir, "--format", "nir", "--out", out])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stderr.contains("8 nodes, 8 edges"), export.stderr)
        let head = try XCTUnwrap(FileHandle(forReadingAtPath: out)).readData(ofLength: 8)
        XCTAssertEqual([UInt8](head), [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A], "HDF5 signature")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [], "no temporary file is left behind")

        let noOut = try SATRProcess.run(["export", dir, "--format", "nir"])
        XCTAssertNotEqual(noOut.status, 0)
        XCTAssertTrue(noOut.stderr.contains("--out"), noOut.stderr)
        let badDir = try SATRProcess.run(["export", dir, "--format", "nir", "--out", root.appendingPathComponent("no/such/dir/p.nir").path])
        XCTAssertNotEqual(badDir.status, 0)
        XCTAssertTrue(badDir.stderr.contains("cannot create"), badDir.stderr)
    }

    func testRasterWritesSVGAndTrace() throws {
        let dir = try trainTiny()
        let svg = root.appendingPathComponent("raster.svg").path
        let json = root.appendingPathComponent("trace.json").path
        let raster = try SATRProcess.run(["raster", dir, "--steps", "20", "--out", svg, "--json", json])
        XCTAssertEqual(raster.status, 0, raster.stderr)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("<svg") && text.contains("rate (Hz)") && text.contains("action"))
        let trace = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let spikes = try XCTUnwrap(trace["spikes"] as? [[[Int]]])
        XCTAssertEqual(spikes.count, (trace["outputs"] as? [Any])?.count)
        XCTAssertTrue(spikes.allSatisfy { $0.count == 33 })
        XCTAssertEqual((trace["initial_membrane"] as? [Double])?.count, 64)

        let bad = try SATRProcess.run(["raster", dir, "--out", root.appendingPathComponent("r.jpg").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains(".svg or .png"), bad.stderr)
    }
}
