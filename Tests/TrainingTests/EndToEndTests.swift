import Foundation
import XCTest
import Environments
import Search
import Spiking
@testable import Training

/// End-to-end runs on a tiny configuration: InvertedPendulum-v5, N = 64, small populations.
final class EndToEndTrainingTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("satr-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    static func tinyConfig(generations: Int, threads: Int) -> TrainingConfig {
        var c = TrainingConfig()
        c.env = "InvertedPendulum-v5"
        c.neurons = 64
        c.population = 16
        c.generations = generations
        c.seed = 7
        c.evalEvery = 2
        c.evalEpisodes = 2
        c.checkpointEvery = 2
        c.threads = threads
        c.algorithm = .satr(.init(trustRadius: 0.1))
        return c
    }

    func decodedCheckpoint(_ dir: URL) throws -> Checkpoint {
        var c = try Checkpoint.read(from: dir.appendingPathComponent(RunFiles.checkpoint))
        c.wallSeconds = 0
        return c
    }

    /// Same seed and settings: the same metrics (wall-clock fields aside), checkpoint state and
    /// policy for 1, 2 or 3 threads, and for a run stopped at generation 3 and resumed (with
    /// another thread count) up to 6.
    func testResumeAndThreadCountGiveBitIdenticalResults() throws {
        let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b"), c = root.appendingPathComponent("c")
        _ = try Trainer.train(config: Self.tinyConfig(generations: 6, threads: 2), directory: a)
        _ = try Trainer.train(config: Self.tinyConfig(generations: 6, threads: 3), directory: c)
        _ = try Trainer.train(config: Self.tinyConfig(generations: 3, threads: 1), directory: b)
        XCTAssertEqual(try decodedCheckpoint(b).generation, 3)
        var patch: [String: JSONTree] = [:]
        patch["generations"] = .int(6)
        patch["threads"] = .int(3)
        let resumed = try Trainer.resume(directory: b, patch: patch)
        XCTAssertEqual(resumed.generation, 6)

        let linesA = try MetricsFile.deterministicLines(a.appendingPathComponent(RunFiles.metrics))
        XCTAssertEqual(linesA.count, 6)
        XCTAssertFalse(linesA.joined().contains("wall_"))
        XCTAssertEqual(try MetricsFile.deterministicLines(c.appendingPathComponent(RunFiles.metrics)), linesA, "2 vs 3 threads")
        XCTAssertEqual(try MetricsFile.deterministicLines(b.appendingPathComponent(RunFiles.metrics)), linesA, "resumed vs uninterrupted")
        let checkpointA = try decodedCheckpoint(a)
        XCTAssertEqual(try decodedCheckpoint(c), checkpointA)
        XCTAssertEqual(try decodedCheckpoint(b), checkpointA)
        // Byte-identical apart from the wall clock: re-encode with the wall clock zeroed.
        XCTAssertEqual(try decodedCheckpoint(b).encoded(), try checkpointA.encoded())
        let policyA = try Data(contentsOf: a.appendingPathComponent(RunFiles.policy))
        XCTAssertEqual(try Data(contentsOf: b.appendingPathComponent(RunFiles.policy)), policyA)
        XCTAssertEqual(try Data(contentsOf: c.appendingPathComponent(RunFiles.policy)), policyA)
        let bestA = try Data(contentsOf: a.appendingPathComponent(RunFiles.bestPolicy))
        XCTAssertEqual(try Data(contentsOf: b.appendingPathComponent(RunFiles.bestPolicy)), bestA, "best policy after resume")
        XCTAssertEqual(try Data(contentsOf: c.appendingPathComponent(RunFiles.bestPolicy)), bestA)
    }

    /// A run interrupted after its last checkpoint (metrics lines past it, a partial last line)
    /// resumes from the checkpoint and ends exactly like an uninterrupted run.
    func testResumeAfterInterruptionDropsLinesPastTheCheckpoint() throws {
        let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b")
        _ = try Trainer.train(config: Self.tinyConfig(generations: 5, threads: 2), directory: a)
        _ = try Trainer.train(config: Self.tinyConfig(generations: 4, threads: 2), directory: b)
        // Simulate a crash during generation 5: one stray line, one partial line.
        let metrics = b.appendingPathComponent(RunFiles.metrics)
        let handle = try FileHandle(forWritingTo: metrics)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"generation\":5,\"env_steps\":1}\n{\"generation\":6,\"env_s".utf8))
        try handle.close()
        var patch: [String: JSONTree] = [:]
        patch["generations"] = .int(5)
        _ = try Trainer.resume(directory: b, patch: patch)
        XCTAssertEqual(try MetricsFile.deterministicLines(metrics), try MetricsFile.deterministicLines(a.appendingPathComponent(RunFiles.metrics)))
        XCTAssertEqual(try decodedCheckpoint(b), try decodedCheckpoint(a))
    }

    /// The tiny run learns: the deterministic policy's return after training is clearly above
    /// the return of the random networks of the first generation. (EC: at this size, N = 64 and
    /// M = 64, SATR's lag-1 signal estimate is dominated by noise, sqrt(2d)/M ~ 1.5, and it may
    /// rightly not move for many generations; its learning is measured in docs/RESULTS.md.)
    func testTinyRunLearnsInvertedPendulum() throws {
        var config = Self.tinyConfig(generations: 16, threads: 2)
        config.algorithm = .ec(.init())
        config.population = 64
        config.evalEvery = 4
        config.evalEpisodes = 4
        let dir = root.appendingPathComponent("learn")
        let result = try Trainer.train(config: config, directory: dir)
        let rows = try MetricsFile.read(dir.appendingPathComponent(RunFiles.metrics))
        let randomReturn = try XCTUnwrap(rows.first?.fitnessMean)
        XCTAssertGreaterThan(result.evaluation.mean, max(3 * randomReturn, 80),
                             "eval return \(result.evaluation.returns) vs random networks' mean \(randomReturn)")
        // The saved policy evaluates to the same returns with the same seeds.
        let policy = try PolicyFile.load(path: dir.path)
        let again = try PolicyEvaluation.evaluate(policy: policy, episodes: 4, seed: config.seed, generation: 16, threads: 2,
                                                  options: policy.environmentOptions)
        XCTAssertEqual(again.returns, result.evaluation.returns)
        // policy_best.json is the policy of the scheduled evaluation with the highest mean (the
        // first of equals), and evaluates to that evaluation's returns.
        let scheduled = rows.compactMap { row -> (generation: Int, mean: Double)? in
            row.evalReturnMean.map { (row.generation, $0) }
        }
        XCTAssertEqual(scheduled.count, 4)
        let top = try XCTUnwrap(scheduled.max { $0.mean < $1.mean || ($0.mean == $1.mean && $0.generation > $1.generation) })
        let best = try XCTUnwrap(result.bestEvaluation)
        XCTAssertEqual(best.generation, top.generation)
        XCTAssertEqual(best.mean, top.mean)
        let bestPolicy = try PolicyFile.load(path: dir.appendingPathComponent(RunFiles.bestPolicy).path)
        XCTAssertEqual(bestPolicy.training.generation, top.generation)
        XCTAssertEqual(bestPolicy.training.evalReturnMean, top.mean)
        let bestAgain = try PolicyEvaluation.evaluate(policy: bestPolicy, episodes: 4, seed: config.seed, generation: top.generation,
                                                      threads: 2, options: bestPolicy.environmentOptions)
        XCTAssertEqual(bestAgain.returns, best.returns)
        // Metrics hold every field the issue asks for.
        let last = try XCTUnwrap(rows.last)
        let fields: [String: Any?] = [
            "env_steps": last.envSteps, "wall_s": last.wallSeconds, "fitness_mean": last.fitnessMean, "fitness_max": last.fitnessMax,
            "fitness_min": last.fitnessMin, "fitness_std": last.fitnessStd, "eval_return_mean": last.evalReturnMean,
            "opt_mean_variance": last.optimizer["mean_variance"] ?? nil, "opt_realized_kl": last.optimizer["realized_kl"] ?? nil,
        ]
        for (key, value) in fields {
            XCTAssertNotNil(value, "metrics line lacks \(key): \(last)")
        }
    }

    /// Trains `config(total)` into `uninterrupted`, and `config(stoppedAt)` into `resumed` resumed to
    /// `total`; the two must end with the same metrics (wall clock aside) and checkpoint.
    func assertResumeIsBitIdentical(
        _ config: (Int) -> TrainingConfig, stoppedAt: Int, total: Int, uninterrupted: URL, resumed: URL,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        _ = try Trainer.train(config: config(total), directory: uninterrupted)
        _ = try Trainer.train(config: config(stoppedAt), directory: resumed)
        var patch: [String: JSONTree] = [:]
        patch["generations"] = .int(Int64(total))
        _ = try Trainer.resume(directory: resumed, patch: patch)
        XCTAssertEqual(try MetricsFile.deterministicLines(resumed.appendingPathComponent(RunFiles.metrics)),
                       try MetricsFile.deterministicLines(uninterrupted.appendingPathComponent(RunFiles.metrics)),
                       "resumed vs uninterrupted", file: file, line: line)
        XCTAssertEqual(try decodedCheckpoint(resumed), try decodedCheckpoint(uninterrupted), file: file, line: line)
    }

    /// With a population schedule (growing for mirrored SATR, shrinking for mirrored EC), each
    /// generation runs M(E) members, one episode each on this task, the metrics record M as
    /// `train_population`, and a run stopped and resumed ends bit-identical to an uninterrupted one.
    func testPopulationScheduleSetsTheMembersAndResumesBitIdentically() throws {
        var ec = ECStrategy.Hyperparameters()
        ec.mirrored = true
        for (start, growth, algorithm) in [(4, 150, AlgorithmSettings.satr(.init(trustRadius: 0.1, mirrored: true))), (24, 1500, .ec(ec))] {
            func config(_ generations: Int) -> TrainingConfig {
                var c = Self.tinyConfig(generations: generations, threads: 2)
                c.algorithm = algorithm
                c.populationStart = start
                c.populationGrowthSteps = growth
                return c
            }
            let a = root.appendingPathComponent("\(algorithm.name)-a")
            try assertResumeIsBitIdentical(config, stoppedAt: 3, total: 6, uninterrupted: a,
                                           resumed: root.appendingPathComponent("\(algorithm.name)-b"))
            let schedule = try XCTUnwrap(config(6).populationSchedule)
            var previous = (steps: 0, episodes: 0)
            var populations: [Int] = []
            for line in try MetricsFile.deterministicLines(a.appendingPathComponent(RunFiles.metrics)) {
                let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let m = try XCTUnwrap(row["train_population"] as? Int, line)
                XCTAssertEqual(m, schedule.population(afterEnvSteps: previous.steps))
                let steps = try XCTUnwrap(row["env_steps"] as? Int), episodes = try XCTUnwrap(row["episodes"] as? Int)
                XCTAssertEqual(episodes - previous.episodes, m, "one training episode per member")
                previous = (steps, episodes)
                populations.append(m)
            }
            XCTAssertEqual(populations.first, start)
            XCTAssertGreaterThan(Set(populations).count, 2, "the population moved: \(populations)")
            let saved = try JSONDecoder().decode(TrainingConfig.self, from: Data(contentsOf: a.appendingPathComponent(RunFiles.config)))
            XCTAssertEqual(saved.populationSchedule, schedule, "config.json records the schedule")
        }
    }

    /// A schedule that starts at the run's population changes nothing: the same metrics (but for
    /// `train_population`) and the same optimizer state as a run without one.
    func testPopulationScheduleAtThePopulationChangesNothing() throws {
        var plain = Self.tinyConfig(generations: 4, threads: 2)
        plain.evalEvery = 0
        var scheduled = plain
        scheduled.populationStart = plain.population
        let a = root.appendingPathComponent("plain"), b = root.appendingPathComponent("scheduled")
        _ = try Trainer.train(config: plain, directory: a)
        _ = try Trainer.train(config: scheduled, directory: b)
        func rows(_ dir: URL) throws -> [[String: Any]] {
            try MetricsFile.deterministicLines(dir.appendingPathComponent(RunFiles.metrics)).map {
                var row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                row["train_population"] = nil
                return row
            }
        }
        let ra = try rows(a), rb = try rows(b)
        XCTAssertEqual(ra.count, 4)
        XCTAssertEqual(ra.map { NSDictionary(dictionary: $0) }, rb.map { NSDictionary(dictionary: $0) })
        XCTAssertEqual(try decodedCheckpoint(a).optimizer, try decodedCheckpoint(b).optimizer)
    }

    /// A frozen recurrent layer: the search covers K_in and K_out only (d' = 2DN + NA), every
    /// policy the run writes carries the same K_h, drawn once from the run seed, and the export of
    /// the checkpoint equals the run's policy. A resumed run ends bit-identical; ES refuses it.
    func testFrozenRecurrentLayerSearchesInputAndReadoutOnly() throws {
        for algo in [Algorithm.satr, .ec] {
            func config(_ generations: Int) -> TrainingConfig {
                var c = Self.tinyConfig(generations: generations, threads: 2)
                c.algorithm = algo == .satr ? .satr(.init(trustRadius: 0.1)) : .ec(.init())
                c.frozenRecurrent = true
                return c
            }
            let a = root.appendingPathComponent("\(algo)-a")
            try assertResumeIsBitIdentical(config, stoppedAt: 2, total: 4, uninterrupted: a, resumed: root.appendingPathComponent("\(algo)-b"))

            let spec = try TaskRegistry.spec(id: "InvertedPendulum-v5")
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: 64)
            let checkpoint = try decodedCheckpoint(a)
            XCTAssertEqual(checkpoint.optimizer.dimension, 2 * spec.observationSize * 64 + 64 * spec.actionSize)
            let frozen = GenomeExpansion<UInt64>.frozenRecurrent(shape: shape, seed: 7)
            let recurrent = (shape.recurrentBlockOffset / 64)..<(shape.readoutBlockOffset / 64)
            for file in [RunFiles.policy, RunFiles.bestPolicy] {
                let words = try PolicyFile.load(path: a.appendingPathComponent(file).path).connectivityWords()
                XCTAssertEqual(words.count, shape.wordsPerMember)
                XCTAssertEqual(Array(words[recurrent]), Array(frozen.template[recurrent]), "\(algo) \(file): K_h is the frozen draw")
            }
            XCTAssertEqual(try PolicyExport.policy(from: a.path).connectivityWords(),
                           try PolicyFile.load(path: a.appendingPathComponent(RunFiles.policy).path).connectivityWords())
        }
        var es = Self.tinyConfig(generations: 1, threads: 1)
        es.algorithm = .es(.init())
        es.frozenRecurrent = true
        XCTAssertThrowsError(try Trainer.train(config: es, directory: root.appendingPathComponent("es"))) {
            XCTAssertTrue("\($0)".contains("frozen_recurrent"), "\($0)")
        }
    }

    /// Confirming a new best on more episodes changes which policy becomes `policy_best.json`
    /// and nothing else: the metrics (the `confirm_*` fields aside), the checkpoint's search state
    /// and `policy.json` equal those of a run without it. The best is the confirmed evaluation
    /// (the scheduled episodes first, then the confirming ones), and a resumed run ends
    /// bit-identical, best included.
    func testBestConfirmationChangesOnlyTheChoiceOfTheBestPolicy() throws {
        func config(_ generations: Int, confirm: Int) -> TrainingConfig {
            var c = Self.tinyConfig(generations: generations, threads: 2)
            c.evalEvery = 1
            c.bestConfirmEpisodes = confirm
            return c
        }
        let plain = root.appendingPathComponent("plain"), confirmed = root.appendingPathComponent("confirmed")
        _ = try Trainer.train(config: config(6, confirm: 0), directory: plain)
        try assertResumeIsBitIdentical({ config($0, confirm: 3) }, stoppedAt: 3, total: 6, uninterrupted: confirmed,
                                       resumed: root.appendingPathComponent("confirmed-resumed"))
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("confirmed-resumed/\(RunFiles.bestPolicy)")),
                       try Data(contentsOf: confirmed.appendingPathComponent(RunFiles.bestPolicy)), "best policy after resume")

        func rows(_ dir: URL) throws -> [[String: Any]] {
            try MetricsFile.deterministicLines(dir.appendingPathComponent(RunFiles.metrics)).map {
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
        let plainRows = try rows(plain), confirmedRows = try rows(confirmed)
        XCTAssertEqual(plainRows.map { NSDictionary(dictionary: $0) },
                       confirmedRows.map { NSDictionary(dictionary: $0.filter { !$0.key.hasPrefix("confirm_") }) })
        XCTAssertFalse(plainRows.contains { $0.keys.contains { $0.hasPrefix("confirm_") } })
        XCTAssertEqual(try decodedCheckpoint(plain).optimizer, try decodedCheckpoint(confirmed).optimizer)
        XCTAssertEqual(try Data(contentsOf: plain.appendingPathComponent(RunFiles.policy)),
                       try Data(contentsOf: confirmed.appendingPathComponent(RunFiles.policy)))

        // The first evaluation is always confirmed (there is no best yet); every confirmation
        // covers 2 + 3 episodes, and the best is one of them.
        let confirmations = confirmedRows.filter { $0["confirm_episodes"] != nil }
        XCTAssertEqual(confirmations.first?["generation"] as? Int, 1)
        XCTAssertTrue(confirmations.allSatisfy { $0["confirm_episodes"] as? Int == 5 })
        let best = try XCTUnwrap(try decodedCheckpoint(confirmed).bestEvaluation)
        XCTAssertEqual(best.returns.count, 5)
        let row = try XCTUnwrap(confirmedRows.first { $0["generation"] as? Int == best.generation })
        XCTAssertEqual(row["confirm_return_mean"] as? Double, best.mean)
        let scheduled = EvaluationSummary(generation: best.generation, returns: Array(best.returns.prefix(2)), lengths: Array(best.lengths.prefix(2)))
        XCTAssertEqual(row["eval_return_mean"] as? Double, scheduled.mean, "the scheduled episodes come first")
        XCTAssertEqual(try PolicyFile.load(path: confirmed.appendingPathComponent(RunFiles.bestPolicy).path).training.evalReturnMean, best.mean)
    }

    /// A run with observation options (Humanoid-v5 on its 45 joint positions and velocities)
    /// builds its network on that input, records the options in its policy files, evaluates on
    /// them (the training reward options aside) and resumes bit-identically; evaluating the policy
    /// on another observation is refused by name, and `eval_env_options` may not set them.
    func testObservationOptionsShapeTheNetworkAndTravelWithThePolicy() throws {
        func config(_ generations: Int) -> TrainingConfig {
            var c = Self.tinyConfig(generations: generations, threads: 2)
            c.env = "Humanoid-v5"
            c.population = 8
            c.envOptions = EnvironmentOptions(
                healthyReward: 0, includeCinertInObservation: false, includeCvelInObservation: false,
                includeQfrcActuatorInObservation: false, includeCfrcExtInObservation: false)
            return c
        }
        let a = root.appendingPathComponent("a")
        try assertResumeIsBitIdentical(config, stoppedAt: 2, total: 4, uninterrupted: a, resumed: root.appendingPathComponent("b"))
        XCTAssertEqual(try decodedCheckpoint(a).observationSize, 45)
        let policy = try PolicyFile.load(path: a.path)
        XCTAssertEqual(policy.observationSize, 45)
        XCTAssertEqual(policy.normalizer.mean.count, 45)
        XCTAssertEqual(policy.environmentOptions.observationOptions, config(4).envOptions.observationOptions)
        XCTAssertEqual(try policy.networkShape().parameterCount, 2 * 45 * 64 + 64 * 64 + 64 * 17)

        // The final evaluation ran on the standard reward with the policy's observation: `satr eval`'s
        // path gives the same returns from the file alone, and with the options restated.
        let final = try XCTUnwrap(try decodedCheckpoint(a).lastEvaluation)
        for options in [EnvironmentOptions(), EnvironmentOptions(includeCvelInObservation: false)] {
            let again = try PolicyEvaluation.evaluate(
                policy: policy, episodes: final.returns.count, seed: config(4).seed, generation: final.generation, threads: 1,
                options: options)
            XCTAssertEqual(again.returns, final.returns)
        }
        XCTAssertThrowsError(try PolicyEvaluation.evaluate(
            policy: policy, episodes: 1, seed: 0, threads: 1, options: EnvironmentOptions(includeCvelInObservation: true))) { error in
            XCTAssertTrue("\(error)".contains("include_cvel_in_observation=true"), "\(error)")
        }

        var refused = config(1)
        refused.evalEnvOptions = EnvironmentOptions(includeCinertInObservation: false)
        XCTAssertThrowsError(try Trainer.train(config: refused, directory: root.appendingPathComponent("refused"))) { error in
            XCTAssertTrue("\(error)".contains("eval_env_options") && "\(error)".contains("include_cinert_in_observation"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("refused").path))
    }

    func testESAndECRunAndResume() throws {
        for algo in [Algorithm.ec, .es] {
            var config = Self.tinyConfig(generations: 2, threads: 2)
            config.algorithm = algo.defaultSettings
            let dir = root.appendingPathComponent(algo.rawValue)
            _ = try Trainer.train(config: config, directory: dir)
            var patch: [String: JSONTree] = [:]
            patch["generations"] = .int(3)
            let result = try Trainer.resume(directory: dir, patch: patch)
            XCTAssertEqual(result.generation, 3)
            XCTAssertEqual(try PolicyFile.load(path: dir.path).network, algo == .es ? .dense : .bitset)
        }
    }

    /// A member whose physics diverged (fitness -infinity) ranks lowest; the generation goes on and
    /// the metrics report it instead of a non-finite mean.
    func testDivergedMemberRanksLowestAndIsCounted() throws {
        let config = try Self.tinyConfig(generations: 2, threads: 2)
        let spec = try TaskRegistry.spec(id: config.env)
        let dir = root.appendingPathComponent("diverged")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let run = try Trainer.run(SATRStrategy.self, config: config, spec: spec, directory: dir, resuming: nil)
        var outcomes = try run.loop.evaluator.evaluate(run.loop.request(members: Array(0..<config.population)))
        outcomes[3].fitness = -.infinity
        outcomes[3].diverged = true
        let step = try run.loop.finishGeneration(outcomes: outcomes)
        XCTAssertEqual(step.fitness.nonfiniteMembers, 1)
        let record = try run.record(step).metricsRecord
        let fields = Dictionary(uniqueKeysWithValues: record.fields)
        XCTAssertEqual(fields["nonfinite_members"], .int(1))
        guard case .double(let mean)? = fields["fitness_mean"], case .double(let minimum)? = fields["fitness_min"] else {
            return XCTFail("fitness statistics missing: \(record.line)")
        }
        XCTAssertTrue(mean.isFinite && minimum.isFinite, record.line)
        XCTAssertEqual(run.generation, 1)
        XCTAssertTrue(run.loop.strategy.distribution.probabilities.allSatisfy(\.isFinite))
    }

    // MARK: Refusals

    /// Every file of `dir` with its bytes.
    func snapshot(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return out
    }

    func testBadCheckpointsAreRefusedAndNothingIsOverwritten() throws {
        let dir = root.appendingPathComponent("run")
        _ = try Trainer.train(config: Self.tinyConfig(generations: 2, threads: 1), directory: dir)
        let checkpointURL = dir.appendingPathComponent(RunFiles.checkpoint)
        let good = try Data(contentsOf: checkpointURL)
        var patch: [String: JSONTree] = [:]
        patch["generations"] = .int(4)

        func expectRefusal(_ damaged: Data?, patch: [String: JSONTree], mentions words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            if let damaged { try damaged.write(to: checkpointURL) }
            let before = try snapshot(dir)
            XCTAssertThrowsError(try Trainer.resume(directory: dir, patch: patch), file: file, line: line) { error in
                for w in words {
                    XCTAssertTrue("\(error)".contains(w), "\"\(error)\" should mention \(w)", file: file, line: line)
                }
            }
            XCTAssertEqual(try snapshot(dir), before, "a refused resume must not change the directory", file: file, line: line)
            try good.write(to: checkpointURL)
        }

        var corrupt = good
        corrupt[corrupt.count / 2] ^= 0x01
        try expectRefusal(corrupt, patch: patch, mentions: ["corrupt"])
        try expectRefusal(good.prefix(good.count - 100), patch: patch, mentions: ["truncated"])
        try expectRefusal(good.prefix(12), patch: patch, mentions: ["truncated"])
        var otherVersion = good
        otherVersion[8] = 200
        try expectRefusal(otherVersion, patch: patch, mentions: ["version 200", "version \(CheckpointFile.formatVersion)"])
        try expectRefusal(Data("not a checkpoint at all".utf8), patch: patch, mentions: ["not a SATR checkpoint"])
        var otherTask = patch
        otherTask["env"] = .string("Hopper-v5")
        try expectRefusal(nil, patch: otherTask, mentions: ["env", "InvertedPendulum-v5", "Hopper-v5"])
        var otherShape = patch
        otherShape["neurons"] = .int(128)
        try expectRefusal(nil, patch: otherShape, mentions: ["neurons", "64", "128"])

        // A checkpoint of another run (other task) copied into this directory.
        let other = root.appendingPathComponent("other")
        var otherConfig = Self.tinyConfig(generations: 1, threads: 1)
        otherConfig.env = "InvertedDoublePendulum-v5"
        _ = try Trainer.train(config: otherConfig, directory: other)
        try expectRefusal(try Data(contentsOf: other.appendingPathComponent(RunFiles.checkpoint)), patch: patch,
                          mentions: ["InvertedDoublePendulum-v5", "InvertedPendulum-v5"])

        // A well-formed container around a payload of another shape (optimizer size mismatch).
        var checkpoint = try Checkpoint.read(from: checkpointURL)
        checkpoint.neurons = 128
        checkpoint.config.neurons = 128
        try expectRefusal(try checkpoint.encoded(), patch: patch, mentions: ["parameters"])

        // Going back is refused too.
        var back: [String: JSONTree] = [:]
        back["generations"] = .int(1)
        try expectRefusal(nil, patch: back, mentions: ["generation 2"])

        // A hyperparameter of another algorithm is named as such.
        var otherAlgorithm = patch
        otherAlgorithm["learning_rate"] = .double(0.1)
        try expectRefusal(nil, patch: otherAlgorithm, mentions: ["learning_rate", "ec", "satr"])

        // The intact checkpoint still resumes.
        XCTAssertEqual(try Trainer.resume(directory: dir, patch: patch).generation, 4)
    }

    func testFreshRunRefusesAnExistingRunDirectory() throws {
        let dir = root.appendingPathComponent("run")
        _ = try Trainer.train(config: Self.tinyConfig(generations: 1, threads: 1), directory: dir)
        let before = try snapshot(dir)
        XCTAssertThrowsError(try Trainer.train(config: Self.tinyConfig(generations: 1, threads: 1), directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("--resume"), "\(error)")
        }
        XCTAssertEqual(try snapshot(dir), before)
    }
}
