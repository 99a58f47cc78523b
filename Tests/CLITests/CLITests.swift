import Foundation
import XCTest

/// Runs the built `satr` executable as a user would.
enum SATRProcess {
    /// The directory that holds the built products (next to the test bundle).
    static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `satr arguments...` and collects its exit status and output.
    static func run(_ arguments: [String], currentDirectory: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("satr")
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

final class CLIBasicsTests: XCTestCase {
    func testHelpListsSubcommands() throws {
        let result = try SATRProcess.run(["--help"])
        XCTAssertEqual(result.status, 0)
        for name in ["train", "eval", "plot", "envs", "rollout", "bench"] {
            XCTAssertTrue(result.stdout.contains(name), "help should list \(name): \(result.stdout)")
        }
    }

    func testUnknownSubcommandFails() throws {
        let result = try SATRProcess.run(["frobnicate"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("frobnicate"), result.stderr)
    }
}

/// A test case with a fresh scratch directory `root` per test, removed afterwards.
class ScratchDirectoryTestCase: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("satr-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }
}

final class InfoCLITests: XCTestCase {
    func testInfoSaysWhichKernelLevelRuns() throws {
        let result = try SATRProcess.run(["info", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let level = try XCTUnwrap(object["kernel_level"] as? String)
        let levels = try XCTUnwrap(object["kernel_levels"] as? [String: Bool])
        XCTAssertEqual(levels["baseline"], true)
        XCTAssertEqual(levels[level], true, "the active level must be supported")
        XCTAssertEqual(object["best_kernel_level"] as? String, level, "without SATR_KERNEL the best level runs")
        XCTAssertEqual(object["build"] as? String, "release")
    }

    func testSATRKernelForcesALevelAndRefusesUnknownOnes() throws {
        let forced = try SATRProcess.run(["info", "--json"], environment: ["SATR_KERNEL": "baseline"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(forced.stdout.contains("\"kernel_level\":\"baseline\""), forced.stdout)
        let bad = try SATRProcess.run(["info"], environment: ["SATR_KERNEL": "avx9000"])
        XCTAssertEqual(bad.status, 78)
        XCTAssertTrue(bad.stderr.contains("SATR_KERNEL=avx9000 is not a kernel level"), bad.stderr)
    }
}
