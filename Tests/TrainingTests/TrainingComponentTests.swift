import Foundation
import XCTest
import Randomness
import Environments
import Search
import Spiking
@testable import Training

/// Unit tests of the parts of the trainer that need no environment or network.
final class TrainingComponentTests: XCTestCase {
    // MARK: Normalizer

    func testStatisticsMatchTwoPassMeanAndVariance() {
        var stream = CounterStream(seed: 1, generation: 0, member: 0, purpose: .auxiliary)
        let rows = (0..<500).map { _ in (0..<3).map { i in stream.nextNormal() * Double(i + 1) + Double(i) * 10 } }
        var stats = ObservationStatistics(size: 3)
        for r in rows { stats.add(r) }
        for i in 0..<3 {
            let column = rows.map { $0[i] }
            let mean = column.reduce(0, +) / 500
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 500
            XCTAssertEqual(stats.mean[i], mean, accuracy: 1e-12)
            XCTAssertEqual(stats.variance[i], variance, accuracy: 1e-9 * variance)
        }
    }

    func testMergeInMemberOrderEqualsSequentialWithinRounding() {
        var stream = CounterStream(seed: 2, generation: 0, member: 0, purpose: .auxiliary)
        var members: [ObservationStatistics] = []
        var all = ObservationStatistics(size: 2)
        for m in 0..<7 {
            var s = ObservationStatistics(size: 2)
            for _ in 0..<(m * 13 + 1) {
                let x = [stream.nextNormal(), 5 + 2 * stream.nextNormal()]
                s.add(x)
                all.add(x)
            }
            members.append(s)
        }
        var normalizer = ObservationNormalizer(size: 2)
        normalizer.update(withMembers: members)
        XCTAssertEqual(normalizer.statistics.count, all.count)
        for i in 0..<2 {
            XCTAssertEqual(normalizer.mean[i], all.mean[i], accuracy: 1e-12)
            XCTAssertEqual(normalizer.statistics.m2[i], all.m2[i], accuracy: 1e-9 * all.m2[i])
        }
        // Bit-identical when repeated in the same order.
        var again = ObservationNormalizer(size: 2)
        again.update(withMembers: members)
        XCTAssertEqual(again, normalizer)
    }

    func testNormalizerIsIdentityBeforeDataAndFloorsStd() {
        var n = ObservationNormalizer(size: 2)
        XCTAssertEqual(n.frozen().apply([3, -4]), [3, -4])
        var constant = ObservationStatistics(size: 2)
        for _ in 0..<10 { constant.add([1, 2]) }
        n.update(withMembers: [constant])
        XCTAssertEqual(n.standardDeviation, [1e-6, 1e-6])
        XCTAssertEqual(n.frozen().apply([1, 2]), [0, 0])
        XCTAssertEqual(n.frozen().apply([1 + 1e-6, 2])[0], 1, accuracy: 1e-4)
    }

    // MARK: Checkpoint container

    func testCheckpointContainerRoundTripsAndRefusesDamage() throws {
        let payload = Data("{\"hello\":[1,2,3]}".utf8)
        let file = CheckpointFile.encode(payload: payload)
        XCTAssertEqual(try CheckpointFile.decode(file, path: "x"), payload)

        // Truncated.
        XCTAssertThrowsError(try CheckpointFile.decode(file.prefix(file.count - 3), path: "x")) { error in
            guard case CheckpointError.truncated = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        XCTAssertThrowsError(try CheckpointFile.decode(file.prefix(10), path: "x"))
        // Corrupt payload byte.
        var corrupt = file
        corrupt[corrupt.count - 2] ^= 0x20
        XCTAssertThrowsError(try CheckpointFile.decode(corrupt, path: "x")) { error in
            guard case CheckpointError.corrupt = error else { return XCTFail("\(error)") }
        }
        // Other version.
        var other = file
        other[8] = 99
        XCTAssertThrowsError(try CheckpointFile.decode(other, path: "x")) { error in
            XCTAssertEqual(error as? CheckpointError, .unsupportedVersion(path: "x", found: 99, expected: CheckpointFile.formatVersion))
        }
        // Not a checkpoint at all.
        XCTAssertThrowsError(try CheckpointFile.decode(Data("hello world, this is text".utf8), path: "x")) { error in
            XCTAssertEqual(error as? CheckpointError, .notACheckpoint(path: "x"))
        }
    }

    func testAtomicWriteReplacesWholeFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("satr-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("f.bin")
        try AtomicFile.write(Data(repeating: 1, count: 1000), to: url)
        try AtomicFile.write(Data([7, 8]), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([7, 8]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["f.bin"], "no temporary file left")
        XCTAssertThrowsError(try AtomicFile.write(Data([1]), to: dir.appendingPathComponent("missing/f.bin")))
    }

    func testDoublesRoundTripThroughJSONBitExactly() throws {
        var stream = CounterStream(seed: 3, generation: 0, member: 0, purpose: .auxiliary)
        var values = (0..<2000).map { _ in Double(bitPattern: stream.next() & 0x7FEF_FFFF_FFFF_FFFF) }
        values += (0..<2000).map { _ in stream.nextNormal() * 1e-3 }
        values += [0.1, 1.0 / 3, .leastNonzeroMagnitude, 1.7976931348623157e308, -0.0]
        let data = try JSONEncoder().encode(values)
        let back = try JSONDecoder().decode([Double].self, from: data)
        XCTAssertEqual(values.map(\.bitPattern), back.map(\.bitPattern))
        // The metrics writer's own formatting too.
        for v in values.prefix(500) {
            XCTAssertEqual(Double(JSONValue.format(v))?.bitPattern, v.bitPattern)
        }
    }

    // MARK: Metrics

    func testMetricsLineOrderAndWallClockStripping() throws {
        var record = MetricsRecord()
        record.append("generation", 3)
        record.append("fitness_mean", 0.5)
        record.append("nonfinite", JSONValue.double(.infinity))
        record.append("wall_s", 12.25)
        XCTAssertEqual(record.line, "{\"generation\":3,\"fitness_mean\":0.5,\"nonfinite\":null,\"wall_s\":12.25}")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("satr-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("metrics.jsonl")
        do {
            let writer = try MetricsWriter(url: url)
            for g in 1...4 {
                var r = MetricsRecord()
                r.append("generation", g)
                r.append("wall_s", Double(g))
                try writer.append(r)
            }
        }
        XCTAssertEqual(try MetricsFile.deterministicLines(url), (1...4).map { "{\"generation\":\($0)}" })
        try MetricsWriter.truncate(url, keepingGenerationsThrough: 2)
        XCTAssertEqual(try MetricsFile.read(url).count, 2)
    }

    /// `MetricsLine` reads what `MetricsRecord` writes: typed fields, null as nil, `opt_*` as a
    /// dictionary, missing fields as nil.
    func testMetricsLineReadsTheWrittenRecord() throws {
        var record = MetricsRecord()
        record.append("generation", 7)
        record.append("env_steps", 1234)
        record.append("episodes", 16)
        record.append("fitness_mean", 1.5)
        record.append("fitness_std", JSONValue.null)
        record.append("nonfinite_members", 2)
        record.append("opt_realized_kl", 0.25)
        record.append("opt_gradient_energy", JSONValue.double(.nan))
        record.append("wall_s", 3.0)
        let line = try XCTUnwrap(MetricsLine.parse(Array(record.line.utf8)))
        XCTAssertEqual(line.generation, 7)
        XCTAssertEqual(line.envSteps, 1234)
        XCTAssertEqual(line.episodes, 16)
        XCTAssertEqual(line.fitnessMean, 1.5)
        XCTAssertNil(line.fitnessStd)
        XCTAssertEqual(line.nonfiniteMembers, 2)
        XCTAssertNil(line.evalReturnMean)
        XCTAssertEqual(line.optimizer.count, 2)
        XCTAssertEqual(line.optimizer["realized_kl"], .some(0.25))
        XCTAssertEqual(line.optimizer["gradient_energy"], .some(nil))
        XCTAssertEqual(line.wallSeconds, 3)
        XCTAssertNil(MetricsLine.parse(Array("{\"generation\":".utf8)), "a partial line is not a metrics line")
    }

    /// `satr eval --json`'s report: null for a non-finite return, like metrics; sorted keys.
    func testEvaluationReportWritesNullForNonFiniteReturns() throws {
        let summary = EvaluationSummary(generation: 0, returns: [10, -.infinity], lengths: [5, 3])
        let report = EvaluationReport(task: "Hopper-v5", network: "bitset", neurons: 64, seed: .max, summary: summary, energy: nil)
        let text = String(decoding: try JSONCoding.encoder().encode(report), as: UTF8.self)
        XCTAssertTrue(text.contains("\"returns\":[10,null]"), text)
        XCTAssertTrue(text.contains("\"return_mean\":null"), text)
        XCTAssertTrue(text.contains("\"seed\":\"18446744073709551615\""), text)
        XCTAssertFalse(text.contains("energy"), text)
        XCTAssertEqual(try JSONCoding.decoder().decode(EvaluationReport.self, from: Data(text.utf8)), report)
    }

    // MARK: Config

    func testConfigFileDefaultsAndUnknownKeys() throws {
        let partial = try JSONDecoder().decode(TrainingConfig.self, from: Data("{\"env\":\"Hopper-v5\",\"population\":64,\"trust_radius\":0.002}".utf8))
        XCTAssertEqual(partial.env, "Hopper-v5")
        XCTAssertEqual(partial.population, 64)
        XCTAssertEqual(partial.algorithm, .satr(.init(trustRadius: 0.002)))
        XCTAssertEqual(partial.generations, TrainingConfig().generations)
        XCTAssertThrowsError(try JSONDecoder().decode(TrainingConfig.self, from: Data("{\"populaton\":64}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("populaton"), "\(error)")
        }
        // Round trip.
        let data = try partial.jsonData()
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfig.self, from: data), partial)
    }

    /// Layers merge key by key: a later layer wins, env options merge option by option, an env-step
    /// budget without generations lifts the generation limit, and a hyperparameter of another
    /// algorithm is refused with the algorithm's name.
    func testLayersMergeAndBudgets() throws {
        let preset: [String: JSONTree] = [
            "population": .int(256), "trust_radius": .double(0.1), "env_options": .object(["healthy_reward": .int(0)]),
        ]
        let flags: [String: JSONTree] = [
            "population": .int(64), "max_env_steps": .int(1000), "env_options": .object(["ctrl_cost_weight": .double(0.01)]),
        ]
        let c = try TrainingConfig.resolve(layers: [preset, flags])
        XCTAssertEqual(c.population, 64)
        XCTAssertEqual(c.algorithm, .satr(.init(trustRadius: 0.1)))
        XCTAssertEqual(c.envOptions, EnvironmentOptions(ctrlCostWeight: 0.01, healthyReward: 0))
        XCTAssertEqual(c.evalEnvOptions, EnvironmentOptions(), "evaluation uses the standard task")
        XCTAssertNil(c.generations)
        XCTAssertEqual(c.maxEnvSteps, 1000)
        XCTAssertThrowsError(try TrainingConfig.resolve(layers: [["algo": .string("ec"), "trust_radius": .double(0.1)]])) {
            XCTAssertTrue("\($0)".contains("trust_radius") && "\($0)".contains("satr"), "\($0)")
        }
        // Configs written before the redesign: top-level environment options apply to both.
        let legacy = try TrainingConfig.resolve(layers: [["reset_noise_scale": .double(0), "algo": .string("ec"), "learning_rate": .double(0.2)]])
        XCTAssertEqual(legacy.envOptions.resetNoiseScale, 0)
        XCTAssertEqual(legacy.evalEnvOptions.resetNoiseScale, 0)
        XCTAssertEqual(legacy.algorithm, .ec({ var h = ECStrategy.Hyperparameters(); h.learningRate = 0.2; return h }()))
    }

    /// Training rollouts use the training options, the deterministic evaluations the evaluation
    /// options: with `healthy_reward = 0` in training, a member's return is its standard return
    /// less 1 per healthy step, while the evaluation episodes equal those of a standard worker.
    func testWorkerUsesTrainingOptionsForMembersAndEvaluationOptionsForTheDeterministicPolicy() throws {
        let spec = try TaskRegistry.spec(id: "Hopper-v5")
        let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: 64)
        let strategy = ECStrategy(dimension: shape.parameterCount, populationSize: 4, seed: 2)
        typealias Worker = PolicyWorker<BitsetRolloutNetwork>
        var noBonus = try Worker(task: spec, options: EnvironmentOptions(healthyReward: 0), evaluationOptions: EnvironmentOptions(),
                                 network: BitsetRolloutNetwork(shape: shape), genomeCount: shape.wordsPerMember)
        var standard = try Worker(task: spec, options: EnvironmentOptions(), network: BitsetRolloutNetwork(shape: shape),
                                  genomeCount: shape.wordsPerMember)
        let normalization = FrozenNormalization.identity(size: spec.observationSize)
        for member in 0..<4 {
            let a = try noBonus.evaluate(member: member, generation: 0, population: .population(strategy.ask(), seed: 2), normalization: normalization)
            let b = try standard.evaluate(member: member, generation: 0, population: .population(strategy.ask(), seed: 2), normalization: normalization)
            XCTAssertEqual(a.steps, b.steps)
            let healthySteps = Double(b.steps < 1000 ? b.steps - 1 : b.steps)
            XCTAssertEqual(b.fitness - a.fitness, healthySteps, accuracy: 1e-9)
        }
        let genome = strategy.mostLikely()
        for episode in 0..<2 {
            let a = try noBonus.evaluate(member: episode, generation: 3, population: .fixed(genome: genome, seed: 2), normalization: normalization)
            let b = try standard.evaluate(member: episode, generation: 3, population: .fixed(genome: genome, seed: 2), normalization: normalization)
            XCTAssertEqual(a.fitness.bitPattern, b.fitness.bitPattern, "evaluation on the standard task")
        }
    }

    /// Options that lost and were removed: a config that records them switched off (every
    /// config.json written while they existed) loads as if they were absent; switching one on is
    /// refused with the verdict and the commit that still had it; the flags are gone.
    func testRemovedOptionsLoadWhenOffAndAreRefusedWhenOn() throws {
        let old: [String: JSONTree] = ["common_resets": .bool(false), "horizon_start": .null, "horizon_growth_steps": .int(1_000_000),
                                       "pool_while_still": .bool(false)]
        XCTAssertEqual(try TrainingConfig.resolve(layers: [old]), try TrainingConfig.resolve(layers: [[:]]))
        var written = try XCTUnwrap(JSONTree.of(TrainingConfig()).object)
        written.merge(old) { $1 }
        XCTAssertEqual(try TrainingConfig.resolve(layers: [written]), TrainingConfig(), "an old config.json round-trips")
        for (key, value) in [("common_resets", JSONTree.bool(true)), ("horizon_start", .int(200)), ("pool_while_still", .bool(true))] {
            XCTAssertThrowsError(try TrainingConfig.resolve(layers: [[key: value]])) {
                let message = "\($0)"
                XCTAssertTrue(message.contains(key) && message.contains("removed") && message.contains(TrainingConfig.lastCommitWithRemovedOptions), message)
            }
        }
        XCTAssertFalse(try JSONTree.of(TrainingConfig()).object?.keys.contains("common_resets") ?? true, "no longer written")
    }

    /// The frozen recurrent layer's expansion: K_in and K_out of the searched genome land in
    /// place, K_h is the run seed's draw (about half ones, another seed another draw), and the
    /// searched genome is d' / 64 words.
    func testFrozenRecurrentExpansionPlacesTheSearchedBlocks() throws {
        let shape = try NetworkShape(observationSize: 3, actionSize: 2, neurons: 128)
        let frozen = GenomeExpansion<UInt64>.frozenRecurrent(shape: shape, seed: 5)
        let inputWords = shape.recurrentBlockOffset / 64, recurrentWords = 128 * 128 / 64
        XCTAssertEqual(frozen.searchedCount * 64, shape.searchedBitCount(frozenRecurrent: true))
        XCTAssertEqual(frozen.searchedCount, shape.wordsPerMember - recurrentWords)
        let searched = (0..<frozen.searchedCount).map { UInt64($0 + 1) &* 0x9E37_79B9_7F4A_7C15 }
        let full = frozen.expand(searched)
        XCTAssertEqual(Array(full[0..<inputWords]), Array(searched[0..<inputWords]))
        XCTAssertEqual(Array(full[(inputWords + recurrentWords)...]), Array(searched[inputWords...]))
        let recurrent = Array(full[inputWords..<(inputWords + recurrentWords)])
        XCTAssertEqual(recurrent, Array(frozen.template[inputWords..<(inputWords + recurrentWords)]))
        let ones = recurrent.reduce(0) { $0 + $1.nonzeroBitCount }
        XCTAssertEqual(Double(ones) / Double(128 * 128), 0.5, accuracy: 0.03)
        let other = GenomeExpansion<UInt64>.frozenRecurrent(shape: shape, seed: 6)
        XCTAssertNotEqual(Array(other.template[inputWords..<(inputWords + recurrentWords)]), recurrent)
        XCTAssertEqual(shape.searchedBitCount(frozenRecurrent: false), shape.parameterCount)
    }

    /// M(E) = q floor(M_lin(E) / q), M_lin(E) = M_0 + floor((M - M_0) min(E, G) / G): M_0 at the
    /// start, M from G on, monotone in between in either direction, even when members come in pairs.
    func testPopulationScheduleMovesLinearlyToThePopulation() {
        let up = PopulationSchedule(start: 16, final: 64, growthSteps: 1_000_000, pairs: true)
        XCTAssertEqual(up.population(afterEnvSteps: 0), 16)
        XCTAssertEqual(up.population(afterEnvSteps: 250_000), 28)
        XCTAssertEqual(up.population(afterEnvSteps: 260_000), 28, "16 + 12.48 = 28")
        XCTAssertEqual(up.population(afterEnvSteps: 270_000), 28, "16 + 12.96 = 28")
        XCTAssertEqual(up.population(afterEnvSteps: 999_999), 62, "16 + 47.99 = 63, rounded down to a pair")
        XCTAssertEqual(up.population(afterEnvSteps: 1_000_000), 64)
        XCTAssertEqual(up.population(afterEnvSteps: 1 << 50), 64)
        let single = PopulationSchedule(start: 16, final: 64, growthSteps: 1_000_000, pairs: false)
        XCTAssertEqual(single.population(afterEnvSteps: 999_999), 63)
        let down = PopulationSchedule(start: 256, final: 64, growthSteps: 1000, pairs: true)
        XCTAssertEqual(down.population(afterEnvSteps: 0), 256)
        XCTAssertEqual(down.population(afterEnvSteps: 500), 160)
        XCTAssertEqual(down.population(afterEnvSteps: 999), 64, "256 - 191.8: 65 truncated toward the start, then a pair")
        XCTAssertEqual(down.population(afterEnvSteps: 990), 66, "256 - 190.08: 66")
        XCTAssertEqual(down.population(afterEnvSteps: 5000), 64)
        XCTAssertEqual(down.largest, 256)
        for schedule in [up, single, down] {
            var previous = schedule.start
            for e in stride(from: 0, through: 2_000_000, by: 777) {
                let m = schedule.population(afterEnvSteps: e)
                XCTAssertTrue(schedule.start < schedule.final ? m >= previous : m <= previous, "monotone")
                XCTAssertTrue((min(schedule.start, schedule.final)...schedule.largest).contains(m))
                XCTAssertTrue(!schedule.pairs || m % 2 == 0)
                previous = m
            }
        }
        var c = TrainingConfig()
        XCTAssertNil(c.populationSchedule, "no schedule by default")
        c.population = 64
        c.populationStart = 16
        c.populationGrowthSteps = 500
        XCTAssertEqual(c.populationSchedule, PopulationSchedule(start: 16, final: 64, growthSteps: 500, pairs: false))
        c.algorithm = .satr(.init(mirrored: true))
        XCTAssertEqual(c.populationSchedule?.pairs, true, "mirrored pairs")
        c.algorithm = .es(.init())
        XCTAssertEqual(c.populationSchedule?.pairs, true, "ES always samples pairs")
    }

    /// A scheduled evaluation that beats the best on its own episodes but not once confirmed is
    /// not kept; without confirmation the schedule keeps the highest scheduled mean.
    func testEvaluationScheduleKeepsOnlyConfirmedBests() {
        func summary(_ generation: Int, _ returns: [Double]) -> EvaluationSummary {
            EvaluationSummary(generation: generation, returns: returns, lengths: returns.map { _ in 1000 })
        }
        var schedule = EvaluationSchedule(every: 5, confirmEpisodes: 2)
        let first = summary(5, [100, 100])
        XCTAssertTrue(schedule.needsConfirmation(first))
        XCTAssertTrue(schedule.record(first, confirmation: summary(5, [100, 100, 100, 100])))
        let lucky = summary(10, [150, 150])
        XCTAssertTrue(schedule.needsConfirmation(lucky))
        XCTAssertFalse(schedule.record(lucky, confirmation: summary(10, [150, 150, 0, 0])), "75 < 100 once confirmed")
        XCTAssertEqual(schedule.best?.generation, 5)
        XCTAssertEqual(schedule.last, lucky)
        XCTAssertFalse(schedule.needsConfirmation(summary(15, [90, 90])), "below the best: nothing to confirm")
        XCTAssertTrue(schedule.record(summary(20, [120, 120]), confirmation: summary(20, [120, 120, 110, 110])))
        XCTAssertEqual(schedule.best?.returns.count, 4)

        var plain = EvaluationSchedule(every: 5)
        XCTAssertFalse(plain.needsConfirmation(first))
        XCTAssertTrue(plain.record(first))
        XCTAssertTrue(plain.record(lucky))
        XCTAssertEqual(plain.best, lucky)
    }

    func testConfigValidationNamesTheField() throws {
        var c = TrainingConfig()
        c.neurons = 100
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("neurons"), "\($0)") }
        c = TrainingConfig()
        c.algorithm = .satr(.init(etaMax: -1))
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("eta_max"), "\($0)") }
        c = TrainingConfig()
        c.generations = nil
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("budget"), "\($0)") }
        XCTAssertThrowsError(try TrainingConfig.resolve(layers: [["signal_estimator": .string("magic")]])) {
            XCTAssertTrue("\($0)".contains("signal_estimator"), "\($0)")
        }
        c = TrainingConfig()
        c.envOptions.contactCostWeight = 1
        XCTAssertThrowsError(try c.validate(spec: TaskRegistry.spec(id: "Hopper-v5"))) {
            XCTAssertTrue("\($0)".contains("contact_cost_weight") && "\($0)".contains("healthy_reward"), "\($0)")
        }
        for (start, algorithm) in [(1, AlgorithmSettings.satr(.init())), (1 << 21, .ec(.init())),
                                   (63, .satr(.init(mirrored: true))), (7, .es(.init()))] {
            c = TrainingConfig()
            c.populationStart = start
            c.algorithm = algorithm
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("population_start"), "\($0)") }
        }
        XCTAssertThrowsError(try TrainingConfig.resolve(layers: [["population_growth_steps": .int(0)]]).validate()) {
            XCTAssertTrue("\($0)".contains("population_growth_steps"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.resolve(layers: [["best_confirm_episodes": .int(-1)]]).validate()) {
            XCTAssertTrue("\($0)".contains("best_confirm_episodes"), "\($0)")
        }
        c = TrainingConfig()
        c.populationStart = 63
        XCTAssertNoThrow(try c.validate(), "an odd population without pairs")
        XCTAssertNoThrow(try TrainingConfig().validate())
    }

    // MARK: Evaluator

    /// A worker whose outcome depends on (member, generation) only and whose run time is uneven.
    struct FakeWorker: MemberWorker {
        typealias Population = Double
        var evaluated = 0
        mutating func evaluate(member: Int, generation: Int, population: Double, normalization: FrozenNormalization) throws -> MemberOutcome {
            evaluated += 1
            var stream = CounterStream(seed: 9, generation: generation, member: member, purpose: .auxiliary)
            var stats = ObservationStatistics(size: 1)
            let steps = Int(stream.nextWord() % 200)
            var total = 0.0
            for _ in 0..<steps {
                let x = stream.nextNormal()
                stats.add([x])
                total += x * population
            }
            if member == 5 { usleep(2000) }
            return MemberOutcome(fitness: total, steps: steps, episodes: 1, diverged: false, observations: stats)
        }
    }

    struct FailingWorker: MemberWorker {
        typealias Population = Int
        struct Boom: Error {}
        mutating func evaluate(member: Int, generation: Int, population: Int, normalization: FrozenNormalization) throws -> MemberOutcome {
            if member == 3 { throw Boom() }
            return MemberOutcome(fitness: 0, steps: 0, episodes: 1, diverged: false, observations: .init(size: 1))
        }
    }

    func testThreadedEvaluatorIsIndependentOfThreadCount() throws {
        let request = GenerationRequest(generation: 4, members: Array(0..<37), population: 1.5, normalization: .identity(size: 1))
        let reference = try ThreadedPopulationEvaluator(threads: 1) { FakeWorker() }.evaluate(request)
        XCTAssertEqual(reference.count, 37)
        for threads in [2, 3, 8] {
            let evaluator = ThreadedPopulationEvaluator(threads: threads) { FakeWorker() }
            XCTAssertEqual(try evaluator.evaluate(request), reference, "threads = \(threads)")
        }
        // A subset (as a distributed rank would request) gives the matching slice.
        let subset = GenerationRequest(generation: 4, members: [30, 2, 17], population: 1.5, normalization: .identity(size: 1))
        let part = try ThreadedPopulationEvaluator(threads: 2) { FakeWorker() }.evaluate(subset)
        XCTAssertEqual(part, [reference[30], reference[2], reference[17]])
    }

    func testEvaluatorPropagatesWorkerErrors() {
        let evaluator = ThreadedPopulationEvaluator(threads: 2) { FailingWorker() }
        let request = GenerationRequest(generation: 0, members: Array(0..<10), population: 0, normalization: .identity(size: 1))
        XCTAssertThrowsError(try evaluator.evaluate(request)) { XCTAssertTrue($0 is FailingWorker.Boom) }
    }

    // MARK: Plot

    func testPlotRendersSVGWithBothPanelsAndSeedGroups() {
        let a = RunCurve(directory: "a", label: "SATR X", quantity: "eval return", envSteps: [0, 100, 200], wallSeconds: [0, 1, 2], returns: [1, 5, 9])
        let b = RunCurve(directory: "b", label: "SATR X", quantity: "eval return", envSteps: [0, 120, 210], wallSeconds: [0, 1.5, 2.5], returns: [2, 4, 10])
        let c = RunCurve(directory: "c", label: "EC X", quantity: "eval return", envSteps: [0, 100], wallSeconds: [0, 1], returns: [0, 3])
        let svg = LearningCurvePlot.svg([a, b, c])
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("environment steps"))
        XCTAssertTrue(svg.contains("wall time"))
        XCTAssertTrue(svg.contains("2 seeds"))
        XCTAssertTrue(svg.contains("<polygon"), "a min-max band for the two seeds")
        XCTAssertTrue(svg.contains("EC X"))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(LearningCurvePlot.interpolate([0, 10], [0, 100], at: 2.5), 25)
        XCTAssertEqual(LearningCurvePlot.interpolate([0, 10], [0, 100], at: 11), 100, "held at the last value")
        XCTAssertNil(LearningCurvePlot.interpolate([5, 10], [0, 100], at: 1))
        let ticks = LearningCurvePlot.niceTicks(0, 1000)
        XCTAssertEqual(ticks.first, 0)
        XCTAssertGreaterThanOrEqual(ticks.last!, 1000)
        let cut = b.truncated(atEnvSteps: 120)
        XCTAssertEqual(cut.envSteps, [0, 120], "points up to the limit, the limit included")
        XCTAssertEqual(cut.wallSeconds, [0, 1.5])
        XCTAssertEqual(cut.returns, [2, 4])
        XCTAssertEqual(cut.label, b.label)
    }
}
