#if MPI
import Cluster
import Foundation
import Training

/// `mpirun -np P satr train ...` (builds with the package trait `MPI`; docs/DISTRIBUTED.md).
///
/// Every rank runs the same training loop; each generation's members (and the deterministic
/// network's evaluation episodes) are split across the ranks, and their outcomes are all-gathered
/// into member order (`ClusterDistributor`), so the run is bit-identical to a single-process run.
/// Rank 0 writes the run directory, the progress line and the summary, plus
/// `communication.jsonl` (appended per generation: the seconds spent evaluating, waiting for the
/// slowest rank, gathering and reducing, and the bytes moved).
///
/// Failure: any error on any rank prints a message and ends every rank (`MPI_Abort`); a rank the
/// launcher terminates (because another one died) prints where the intact checkpoint is and how
/// to resume. Checkpoints are written atomically, so the last one is always complete.
extension Train {
    func runDistributed() throws {
        let directory: URL
        var startConfig: TrainingConfig? = nil
        if let resume {
            directory = URL(fileURLWithPath: resume)
        } else {
            let config = try self.freshConfig()
            directory = URL(fileURLWithPath: out ?? "runs/\(config.env)-\(config.algo.rawValue)-s\(config.seed)")
            startConfig = config
        }
        let launcherRank = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] ?? "?"
        let launcherSize = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] ?? "P"
        let dirPath = directory.path
        TerminationNotice.install { signal in
            Self.stopMessage(rank: launcherRank, size: launcherSize, directory: dirPath,
                             reason: "stopped by signal \(signal) (the MPI launcher stops every rank when one of them dies or is interrupted)")
        }

        let group = try MPIProcessGroup()
        let distributor = ClusterDistributor(group: group)
        let progress = ProgressLine(enabled: !quiet && group.isRoot)
        // Rank 0 appends each generation's communication record as soon as it exists, so the log
        // survives an interrupted run.
        let logURL = directory.appendingPathComponent("communication.jsonl")
        var written = 0
        let report: (ProgressReport) -> Void = { [progressReport = progress.report] p in
            progressReport?(p)
            guard group.isRoot, written < distributor.log.count else { return }
            let lines = Self.communicationLines(Array(distributor.log[written...]), ranks: group.size)
            written = distributor.log.count
            Self.append(lines, to: logURL)
        }
        let result: TrainingResult
        do {
            if let startConfig {
                result = try Trainer.train(config: startConfig, directory: directory, progress: report,
                                           distributor: distributor)
            } else {
                result = try Trainer.resume(directory: directory, patch: try patch, progress: report,
                                            distributor: distributor)
            }
        } catch {
            progress.finish()
            group.abort(code: 1, message: Self.stopMessage(
                rank: "\(group.rank)", size: "\(group.size)", directory: dirPath, reason: CLIError(error).description))
        }
        progress.finish()
        if group.isRoot, written < distributor.log.count {
            // The final evaluation of the deterministic network.
            Self.append(Self.communicationLines(Array(distributor.log[written...]), ranks: group.size), to: logURL)
        }
        try group.finalize()
        guard group.isRoot else { return }
        let plot = PlotOutput.write(runs: [result.directory.path],
                                    svgPath: result.directory.appendingPathComponent("learning_curve.svg").path)
        let e = result.evaluation
        let population = distributor.log.filter { $0.purpose == .population }
        let waiting = population.reduce(0) { $0 + $1.waitSeconds }
        let communication = population.reduce(0) { $0 + $1.gatherSeconds + $1.reduceSeconds }
        let bytes = population.reduce(0) { $0 + $1.bytesReceived + $1.reduceBytes }
        print("""
        Trained \(result.generation) generations (\(formatCount(Double(result.envSteps))) env steps) in \(formatDuration(result.wallSeconds)) on \(group.size) MPI processes.
        Eval return of the deterministic policy: \(format(e.mean)) +- \(format(e.standardDeviation)) over \(e.returns.count) episodes (min \(format(e.minimum)), max \(format(e.maximum)), mean length \(format(e.meanLength)))
        Communication: \(String(format: "%.4f", communication)) s gathering outcomes and reducing statistics (\(formatCount(Double(bytes))) bytes received), \(String(format: "%.3f", waiting)) s waiting for the slowest rank, over \(population.count) generations (see communication.jsonl)
        Policy:  \(result.policyPath.path)
        Metrics: \(result.metricsPath.path)
        """)
        if let plot { print("Plot:    \(plot)") }
    }

    /// What a stopped rank prints: why, where the intact checkpoint is, how to continue.
    static func stopMessage(rank: String, size: String, directory: String, reason: String) -> String {
        let checkpointURL = URL(fileURLWithPath: directory).appendingPathComponent(RunFiles.checkpoint)
        let checkpoint: String
        if let c = try? Checkpoint.read(from: checkpointURL) {
            checkpoint = "The last checkpoint (generation \(c.generation)) in \(directory) is intact; continue with:\n"
                + "  mpirun -np \(size) satr train --resume \(directory)"
        } else {
            checkpoint = "No checkpoint was written yet in \(directory)."
        }
        return "satr train (MPI rank \(rank) of \(size)): \(reason)\n\(checkpoint)"
    }

    /// Appends `text` to the file at `url` (created when missing); a failure is reported, not fatal.
    static func append(_ text: String, to url: URL) {
        do {
            if !FileManager.default.fileExists(atPath: url.path) {
                _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            FileHandle.standardError.write(Data("satr: could not append to \(url.path): \(error)\n".utf8))
        }
    }

    /// One JSON line per distributed evaluation (rank 0's view).
    static func communicationLines(_ log: [GenerationCommunication], ranks: Int) -> String {
        var text = ""
        for entry in log {
            var r = MetricsRecord()
            r.append("generation", entry.generation)
            r.append("purpose", .string(entry.purpose.rawValue))
            r.append("members", entry.members)
            r.append("ranks", ranks)
            r.append("local_members", entry.localMembers)
            r.append("local_steps", entry.localSteps)
            r.append("bytes_sent", entry.bytesSent)
            r.append("bytes_received", entry.bytesReceived)
            r.append("wall_evaluation_s", entry.evaluationSeconds)
            r.append("wall_wait_s", entry.waitSeconds)
            r.append("wall_wait_statistics_s", entry.statisticsWaitSeconds)
            r.append("chunks", entry.chunks)
            r.append("wall_gather_s", entry.gatherSeconds)
            r.append("wall_evaluation_s_by_rank", .array(entry.evaluationSecondsByRank.map(JSONValue.double)))
            r.append("bytes_reduced", entry.reduceBytes)
            r.append("wall_statistics_s", entry.statisticsSeconds)
            r.append("wall_reduce_s", entry.reduceSeconds)
            r.append("imbalance", entry.imbalance)
            text += r.line + "\n"
        }
        return text
    }
}
#endif
