import Foundation
import XCTest

/// `satr render` as a user runs it: a short video, and the failure without ffmpeg.
final class RenderCLITests: ScratchDirectoryTestCase {

    /// Runs satr with PATH replaced.
    func run(_ arguments: [String], path: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = SATRProcess.productsDirectory.appendingPathComponent("satr")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = path
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func trainTiny(env: String = "InvertedPendulum-v5") throws -> String {
        let dir = root.appendingPathComponent("run").path
        let train = try SATRProcess.run(["train", "--env", env, "--population", "16", "--neurons", "64",
                                         "--generations", "2", "--eval-every", "2", "--eval-episodes", "1", "--seed", "3",
                                         "--threads", "2", "--out", dir])
        XCTAssertEqual(train.status, 0, train.stderr)
        return dir
    }

    func testWithoutFFmpegItSaysWhatToInstallAndWritesNothing() throws {
        let dir = try trainTiny()
        let out = root.appendingPathComponent("video.mp4").path
        let r = try run(["render", dir, "--out", out, "--max-steps", "5"], path: root.path)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("ffmpeg") && r.stderr.contains("apt-get install"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let odd = try SATRProcess.run(["render", dir, "--out", out, "--width", "101"])
        XCTAssertNotEqual(odd.status, 0)
        XCTAssertTrue(odd.stderr.contains("even"), odd.stderr)
    }

    func testShortVideoHasTheExpectedFramesAndSize() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let ffprobe = path.split(separator: ":").map({ "\($0)/ffprobe" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("ffmpeg is not installed (scripts/setup.sh installs it)")
        }
        // Hopper without termination: the episode lasts the 12 steps asked for.
        let dir = try trainTiny(env: "Hopper-v5")
        // MP4: one frame per step (125 fps); GIF: at most 50 fps, so every 3rd step (41.7 fps).
        for (name, frames) in [("video.mp4", 12), ("video.gif", 4)] {
            let out = root.appendingPathComponent(name).path
            let r = try SATRProcess.run(["render", dir, "--out", out, "--max-steps", "12", "--terminate-when-unhealthy", "false",
                                         "--width", "64", "--height", "48"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: ffprobe)
            probe.arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                               "stream=width,height,nb_read_frames", "-of", "csv=p=0", out]
            let pipe = Pipe()
            probe.standardOutput = pipe
            try probe.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            probe.waitUntilExit()
            XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "64,48,\(frames)", "\(name): \(text)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".tmp") }
            XCTAssertEqual(leftovers, [])
        }
    }

    /// The frames show the scene: decoded without the overlay, no frame is a uniform colour and
    /// the robot moves (the first and the last frame differ).
    func testFramesAreNotBlankAndChange() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let ffmpeg = path.split(separator: ":").map({ "\($0)/ffmpeg" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("ffmpeg is not installed (scripts/setup.sh installs it)")
        }
        let dir = try trainTiny(env: "Hopper-v5")
        let out = root.appendingPathComponent("scene.mp4").path
        let (width, height, steps) = (96, 96, 40)
        let r = try SATRProcess.run(["render", dir, "--out", out, "--max-steps", "\(steps)", "--terminate-when-unhealthy", "false",
                                     "--width", "\(width)", "--height", "\(height)", "--no-overlay"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let decode = Process()
        decode.executableURL = URL(fileURLWithPath: ffmpeg)
        decode.arguments = ["-v", "error", "-i", out, "-f", "rawvideo", "-pix_fmt", "gray", "-"]
        let pipe = Pipe()
        decode.standardOutput = pipe
        try decode.run()
        let bytes = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        decode.waitUntilExit()
        let frameSize = width * height
        XCTAssertEqual(bytes.count, steps * frameSize, "decoded \(bytes.count) bytes")
        guard bytes.count == steps * frameSize else { return }
        let frames = (0..<steps).map { Array(bytes[($0 * frameSize)..<(($0 + 1) * frameSize)]) }
        for (i, frame) in frames.enumerated() {
            let low = frame.min() ?? 0, high = frame.max() ?? 0
            XCTAssertGreaterThan(Int(high) - Int(low), 30, "frame \(i) is nearly uniform (\(low)...\(high))")
        }
        let changed = zip(frames[0], frames[steps - 1]).filter { abs(Int($0) - Int($1)) > 8 }.count
        XCTAssertGreaterThan(changed, frameSize / 200, "first and last frame differ in only \(changed) pixels")
    }
}
