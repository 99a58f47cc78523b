import ArgumentParser
import Environments
import Foundation
import Spiking
import Training

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render episodes of the deterministic policy to MP4 or GIF (MuJoCo's renderer, headless; ffmpeg).",
        discussion: """
        Runs episodes 0 ..< K of `satr eval --seed S` (the same episodes) and renders them offscreen \
        with MuJoCo's own renderer in a headless OpenGL context (EGL on Mesa's surfaceless platform: \
        no display needed), piping the raw frames to ffmpeg. The default camera follows the robot \
        as Gymnasium's default camera does; --camera NAME uses one of the model's cameras. The \
        overlay shows the episode, the step and the return so far. Frames: one per --fps interval \
        of simulated time (default 1/dt, one frame per env step; a lower rate skips steps so the \
        video plays in real time). Needs ffmpeg and Mesa's EGL (Debian: ffmpeg libegl1 \
        libegl-mesa0 libgl1-mesa-dri, installed by scripts/setup.sh). The file is written under a \
        temporary name and renamed only when complete.
        """)

    @Argument(help: "A policy.json file or a training output directory.")
    var policy: String
    @Option(help: "Output video: FILE.mp4 or FILE.gif.")
    var out: String
    @Option(help: "Number of episodes (rendered one after another).")
    var episodes: Int = 1
    @Option(help: "Evaluation seed (episode e of satr eval --seed).")
    var seed: UInt64 = 0
    @Option(help: "Frame width in pixels (even for MP4).")
    var width: Int = 480
    @Option(help: "Frame height in pixels (even for MP4).")
    var height: Int = 480
    @Option(help: "A camera of the model (default: the task's tracking camera).")
    var camera: String?
    @Option(help: "Frames per second (default: 1/dt of the task, at most 50 for GIF).")
    var fps: Double?
    @Option(help: "Stop each episode after this many env steps (default: the task's limit).")
    var maxSteps: Int?
    @Option(help: "Environment: end episodes when unhealthy, true or false (default: the policy's training setting).")
    var terminateWhenUnhealthy: Bool?
    @Flag(help: "Draw shadows and reflections (several times slower on a software GL driver).")
    var shadows = false
    @Flag(help: "No text overlay.")
    var noOverlay = false

    var isGIF: Bool { out.lowercased().hasSuffix(".gif") }

    func validate() throws {
        let lower = out.lowercased()
        guard lower.hasSuffix(".mp4") || lower.hasSuffix(".gif") else { throw ValidationError("--out must end in .mp4 or .gif (got \(out))") }
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1 (got \(episodes))") }
        guard (16...4096).contains(width), (16...4096).contains(height) else {
            throw ValidationError("--width and --height must be within 16 ... 4096 (got \(width)x\(height))")
        }
        if !isGIF && (width % 2 != 0 || height % 2 != 0) {
            throw ValidationError("MP4 (H.264, yuv420p) needs an even width and height (got \(width)x\(height))")
        }
        if let fps { guard fps > 0 && fps <= 1000 else { throw ValidationError("--fps must be in (0, 1000] (got \(fps))") } }
        if let maxSteps { guard maxSteps >= 1 else { throw ValidationError("--max-steps must be at least 1 (got \(maxSteps))") } }
    }

    func run() throws {
        do {
            let file = try PolicyFile.load(path: policy)
            let spec = try file.taskSpec()
            guard let ffmpeg = Self.findExecutable("ffmpeg") else {
                throw CLIError(message: "ffmpeg was not found on PATH; install it (Debian: apt-get install -y ffmpeg). Nothing was written.")
            }
            let stepRate = 1 / spec.dt
            // Render every stride-th step; without --fps, encode at the rate that plays in real time.
            let stride = max(1, Int((stepRate / (fps ?? (isGIF ? min(stepRate, 50) : stepRate))).rounded()))
            let frameRate = fps ?? stepRate / Double(stride)
            let renderer = try OffscreenRenderer(taskID: file.task, width: width, height: height, camera: camera, shadows: shadows)
            let encoder = try VideoEncoder(ffmpeg: ffmpeg, out: URL(fileURLWithPath: out), width: width, height: height, fps: frameRate, gif: isGIF)
            let start = Date()
            var frames = 0
            var returns: [Double] = []
            do {
                switch file.network {
                case .bitset:
                    var network = BitsetRolloutNetwork(shape: try file.networkShape())
                    let words = try file.connectivityWords()
                    words.withUnsafeBufferPointer { network.load(genome: $0) }
                    returns = try renderEpisodes(file: file, spec: spec, network: &network, renderer: renderer, encoder: encoder, stride: stride, frames: &frames)
                case .dense:
                    let shape = try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: file.neurons)
                    var network = DenseRolloutNetwork(shape: shape)
                    let weights = try file.denseWeights()
                    weights.withUnsafeBufferPointer { network.load(genome: $0) }
                    returns = try renderEpisodes(file: file, spec: spec, network: &network, renderer: renderer, encoder: encoder, stride: stride, frames: &frames)
                }
                try encoder.finish()
            } catch {
                encoder.abandon()
                throw error
            }
            let seconds = Date().timeIntervalSince(start)
            print("wrote \(out): \(frames) frames \(width)x\(height) at \(String(format: "%g", frameRate)) fps, \(episodes) episode(s), returns \(returns.map { format($0) }.joined(separator: ", ")) (\(String(format: "%.1f", seconds)) s)")
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CLIError(error)
        }
    }

    /// Runs the episodes (seeds of `satr eval`), rendering every `stride`-th step.
    func renderEpisodes<N: RolloutNetwork>(
        file: PolicyFile, spec: TaskSpec, network: inout N, renderer: OffscreenRenderer, encoder: VideoEncoder,
        stride: Int, frames: inout Int
    ) throws -> [Double] {
        let map = ActionMap(low: spec.actionLow, high: spec.actionHigh)
        let normalization = file.normalization
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var y = [Float](repeating: 0, count: spec.actionSize)
        var action = [Double](repeating: 0, count: spec.actionSize)
        var returns: [Double] = []
        for e in 0..<episodes {
            let seeds = evaluationEpisodeSeeds(runSeed: seed, generation: 0, episode: e)
            network.startEpisode(seed: seeds.networkSeed, generation: 0, member: 0)
            var options = file.environmentOptions
            if let terminateWhenUnhealthy { options.terminateWhenUnhealthy = terminateWhenUnhealthy }
            var env = try TaskRegistry.make(id: file.task, options: options)
            var observation = [Double](repeating: 0, count: spec.observationSize)
            try observation.withUnsafeMutableBufferPointer { try env.reset(seed: seeds.resetSeed, observation: $0) }
            var total = 0.0
            var step = 0
            let limit = maxSteps ?? spec.maxEpisodeSteps
            while step < limit {
                let x = normalization.apply(observation)
                x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { network.step(observation: xb, output: $0) } }
                y.withUnsafeBufferPointer { yb in action.withUnsafeMutableBufferPointer { map.apply(yb, into: $0) } }
                let result = try action.withUnsafeBufferPointer { a in
                    try observation.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
                }
                total += result.reward
                if step % stride == 0 {
                    let overlay = noOverlay ? nil : ("episode\nstep\nreturn", "\(e + 1)/\(episodes)\n\(step + 1)\n\(String(format: "%.1f", total))")
                    try pixels.withUnsafeMutableBufferPointer { try renderer.render(env.data, overlay: overlay, into: $0) }
                    try encoder.write(pixels)
                    frames += 1
                }
                step += 1
                if result.terminated || result.truncated { break }
            }
            returns.append(total)
        }
        return returns
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// ffmpeg reading raw RGB24 frames on its standard input and writing MP4 (H.264, yuv420p) or GIF
/// (two-pass palette) to a temporary file beside the output, renamed over it by `finish()`.
final class VideoEncoder {
    let process = Process()
    let input = Pipe()
    let errors = Pipe()
    let temporary: URL
    let destination: URL
    private let errorText = LockedData()

    init(ffmpeg: String, out: URL, width: Int, height: Int, fps: Double, gif: Bool) throws {
        destination = out
        temporary = out.deletingLastPathComponent().appendingPathComponent(".\(out.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        var arguments = ["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                         "-s", "\(width)x\(height)", "-r", String(format: "%g", fps), "-i", "-"]
        if gif {
            arguments += ["-vf", "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse", "-f", "gif"]
        } else {
            arguments += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]
        }
        process.arguments = arguments + [temporary.path]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let collected = errorText
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { collected.append(data) }
        }
        // A broken pipe (ffmpeg exited early) must surface as an error, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        do {
            try process.run()
        } catch {
            throw CLIError(message: "could not start \(ffmpeg): \(error)")
        }
    }

    func write(_ frame: [UInt8]) throws {
        do {
            try input.fileHandleForWriting.write(contentsOf: frame)
        } catch {
            throw CLIError(message: "ffmpeg stopped reading frames: \(ffmpegMessage())")
        }
    }

    private func ffmpegMessage() -> String {
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
        let text = String(decoding: errorText.data, as: UTF8.self)
        return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "exit status \(process.terminationStatus)" : text
    }

    func finish() throws {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = ffmpegMessage()
            try? FileManager.default.removeItem(at: temporary)
            throw CLIError(message: "ffmpeg failed: \(message)")
        }
        errors.fileHandleForReading.readabilityHandler = nil
        if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
        try FileManager.default.moveItem(at: temporary, to: destination)
    }

    /// Stops ffmpeg and removes the partial file.
    func abandon() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
        try? FileManager.default.removeItem(at: temporary)
    }
}

/// Bytes appended from another thread (ffmpeg's standard error).
final class LockedData: @unchecked Sendable {
    // @unchecked: `storage` is only touched under `lock`.
    private let lock = NSLock()
    private var storage = Data()

    func append(_ data: Data) { lock.withLock { storage.append(data) } }
    var data: Data { lock.withLock { storage } }
}
