import Foundation

/// File names inside a run directory.
public enum RunFiles {
    public static let config = "config.json"
    public static let metrics = "metrics.jsonl"
    public static let evaluation = "evaluation.json"
    public static let checkpoint = Checkpoint.fileName
    public static let policy = PolicyFile.fileName
    /// The deterministic policy at the scheduled evaluation with the highest mean return so far.
    public static let bestPolicy = "policy_best.json"
}

/// Every file a training run reads and writes, in one place: `config.json`, `metrics.jsonl`,
/// `checkpoint.satr`, `policy.json`, `policy_best.json`, `evaluation.json`.
///
/// Writes are atomic (a temporary file renamed over the old one) except the metrics, which are
/// appended and flushed before each checkpoint, so that a checkpoint never refers to metrics
/// lines that could be lost. Only the primary process of a run holds one for writing.
public final class RunDirectory {
    public let url: URL
    private var metrics: MetricsWriter?

    public init(url: URL) { self.url = url }

    public var configURL: URL { url.appendingPathComponent(RunFiles.config) }
    public var metricsURL: URL { url.appendingPathComponent(RunFiles.metrics) }
    public var checkpointURL: URL { url.appendingPathComponent(RunFiles.checkpoint) }
    public var policyURL: URL { url.appendingPathComponent(RunFiles.policy) }
    public var bestPolicyURL: URL { url.appendingPathComponent(RunFiles.bestPolicy) }
    public var evaluationURL: URL { url.appendingPathComponent(RunFiles.evaluation) }

    /// Creates the directory for a fresh run, refusing one that already holds a run (a checkpoint
    /// or metrics), so that nothing is overwritten.
    func createForFreshRun() throws {
        let fm = FileManager.default
        for file in [checkpointURL, metricsURL] where fm.fileExists(atPath: file.path) {
            throw Trainer.StartError(description: "\(url.path) already holds a training run (\(file.lastPathComponent) exists); continue it with `satr train --resume \(url.path)` or choose another --out")
        }
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw Trainer.StartError(description: "cannot create the output directory \(url.path): \(error.localizedDescription)")
        }
    }

    /// The config layer of `config.json`, if the directory has one.
    func configLayer() throws -> [String: JSONTree]? {
        FileManager.default.fileExists(atPath: configURL.path) ? try TrainingConfig.layer(contentsOf: configURL) : nil
    }

    func write(config: TrainingConfig) throws {
        try AtomicFile.write(try config.jsonData(), to: configURL)
    }

    func readCheckpoint() throws -> Checkpoint { try Checkpoint.read(from: checkpointURL) }

    var hasCheckpoint: Bool { FileManager.default.fileExists(atPath: checkpointURL.path) }

    /// Drops the metrics lines past `generation` (an interrupted run's lines after its checkpoint).
    func truncateMetrics(keepingGenerationsThrough generation: Int) throws {
        try MetricsWriter.truncate(metricsURL, keepingGenerationsThrough: generation)
    }

    /// Opens `metrics.jsonl` for appending (created when missing).
    func openMetrics() throws {
        if metrics == nil { metrics = try MetricsWriter(url: metricsURL) }
    }

    /// Appends one generation's line to `metrics.jsonl`.
    func append(_ record: GenerationRecord) throws {
        try openMetrics()
        try metrics?.append(record.metricsRecord)
    }

    /// Flushes the metrics, then writes the checkpoint.
    func write(checkpoint: Checkpoint) throws {
        try metrics?.synchronize()
        try checkpoint.write(to: checkpointURL)
    }

    /// Writes `policy.json`, or `policy_best.json` when `best`.
    func write(policy: PolicyFile, best: Bool = false) throws {
        try AtomicFile.write(try policy.jsonData(), to: best ? bestPolicyURL : policyURL)
    }

    /// Writes `evaluation.json`: the final evaluation with its episodes.
    func write(finalEvaluation e: EvaluationSummary, envSteps: Int, wallSeconds: Double) throws {
        try AtomicFile.write(Data((e.evaluationRecord(envSteps: envSteps, wallSeconds: wallSeconds).line + "\n").utf8), to: evaluationURL)
    }
}
