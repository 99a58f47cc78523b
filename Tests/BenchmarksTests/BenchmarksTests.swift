import Foundation
import XCTest

@testable import Benchmarks
import Environments
import Spiking
import Training

/// Each benchmark called directly with tiny settings: the result has the documented structure,
/// and every rate and ratio is finite and positive (speed targets are never checked here).
final class BenchmarksTests: XCTestCase {
    func assertMeasured(_ values: [String: Double], file: StaticString = #filePath, line: UInt = #line) {
        for (name, value) in values {
            XCTAssertTrue(value.isFinite && value > 0, "\(name) = \(value)", file: file, line: line)
        }
    }

    /// The result's JSON (the shared encoder) as an object, for checking field names.
    func keys<T: Encodable>(_ value: T) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: JSONCoding.encoder().encode(value)) as? [String: Any]
        return Set(try XCTUnwrap(object).keys)
    }

    func testNetworkBenchmark() throws {
        let r = try NetworkBenchmark.run(
            .init(environmentID: "Walker2d-v5", neurons: 64, members: 2, threads: 2, seconds: 0.02), taskName: "walker")
        XCTAssertEqual(r.observationSize, 17)
        XCTAssertEqual(r.actionSize, 6)
        XCTAssertEqual(r.neurons, 64)
        XCTAssertEqual(r.threads, 2)
        XCTAssertGreaterThan(r.bitsetEnvStepsMeasured, 0)
        assertMeasured([
            "bitset": r.bitsetStepsPerSecond, "reference": r.referenceStepsPerSecond, "dense": r.denseSNNStepsPerSecond,
            "speedup_vs_reference": r.speedupVsReference, "speedup_vs_dense_snn": r.speedupVsDenseSNN,
        ])
        XCTAssertTrue(try keys(r).isSuperset(of: ["bitset_steps_per_s", "speedup_vs_dense_snn", "kernel_codegen", "task"]))
    }

    func testEnvBenchmark() throws {
        let r = try EnvBenchmark.run(.init(environmentID: "InvertedPendulum-v5", steps: 200, repeats: 1))
        XCTAssertEqual(r.env, "InvertedPendulum-v5")
        XCTAssertGreaterThanOrEqual(r.episodes, 1)
        XCTAssertEqual(r.meetsTarget, r.ratio >= r.targetRatio)
        assertMeasured(["env": r.envStepsPerSecond, "raw": r.rawMjStepsPerSecond, "ratio": r.ratio])
        XCTAssertEqual(r.rawEnvEquivalentStepsPerSecond * Double(r.frameSkip), r.rawMjStepsPerSecond, accuracy: 1e-6 * r.rawMjStepsPerSecond)
        XCTAssertTrue(try keys(r).isSuperset(of: ["env_steps_per_s", "raw_mj_steps_per_s", "ratio", "meets_target"]))
    }

    func testSearchBenchmark() throws {
        let r = try SearchBenchmark.run(
            .init(environmentID: "Hopper-v5", bits: 640, population: 4, generations: 1, environmentSeconds: 0.02), taskName: "hopper")
        XCTAssertEqual(r.optimizers.map(\.optimizer), ["EC", "SATR", "ES"])
        XCTAssertEqual(r.bits, 640)
        XCTAssertEqual(r.episodeSteps, 1000)
        assertMeasured(["env steps/s": r.environmentStepsPerSecond, "rollout": r.environmentRolloutSeconds])
        for row in r.optimizers {
            assertMeasured(["\(row.optimizer) total": row.totalSeconds, "\(row.optimizer) ratio": row.overheadRatio])
            XCTAssertEqual(row.totalSeconds, row.sampleSeconds + row.shapeSeconds + row.statisticsSeconds + row.updateSeconds,
                           accuracy: 1e-12)
        }
        XCTAssertTrue(try keys(r).isSuperset(of: ["environmentStepsPerSecond", "environmentRolloutSeconds", "optimizers", "bits"]))
    }

    func testSearchBenchmarkSizesComeFromTheTask() throws {
        let r = try SearchBenchmark.run(
            .init(environmentID: "Hopper-v5", population: 2, generations: 1, includeES: false, environmentSeconds: 0.02),
            taskName: "hopper")
        XCTAssertEqual(r.bits, 71936)  // NetworkShape(11, 3, 256).parameterCount
        XCTAssertEqual(r.optimizers.map(\.optimizer), ["EC", "SATR"])
    }

    func testTrainBenchmark() throws {
        let r = try TrainBenchmark.run(
            .init(environmentID: "InvertedPendulum-v5", population: 4, generations: 2, threads: 2, neurons: 64, repeats: 2))
        XCTAssertEqual(r.ratioPerGeneration.count, 4)
        XCTAssertEqual(r.ratioPerRepeat.count, 2)
        XCTAssertGreaterThanOrEqual(r.trainEnvSteps, 2 * 2 * 4)
        assertMeasured([
            "train": r.trainStepsPerSecond, "raw": r.rawStepsPerSecond, "ratio": r.ratio, "median": r.ratioMedian,
            "network": try XCTUnwrap(r.rawWithNetworkStepsPerSecond), "vs network": try XCTUnwrap(r.ratioVsRawWithNetwork),
            "policy physics": try XCTUnwrap(r.policyPhysicsStepsPerSecond), "vs policy physics": try XCTUnwrap(r.ratioVsPolicyPhysics),
            "vs policy physics median": try XCTUnwrap(r.ratioVsPolicyPhysicsMedian),
        ])
        XCTAssertEqual(r.ratioVsPolicyPhysicsPerRepeat?.count, 2)
        assertMeasured([
            "train episode": r.trainEpisodeSteps, "raw episode": r.rawEpisodeSteps,
            "policy episode": try XCTUnwrap(r.policyPhysicsEpisodeSteps),
        ])
        for x in r.ratioPerGeneration + r.ratioPerRepeat { assertMeasured(["ratio": x]) }
        XCTAssertTrue(try keys(r).isSuperset(of: [
            "train_steps_per_s", "raw_with_network_steps_per_s", "ratio_per_repeat", "policy_physics_steps_per_s", "ratio_vs_policy_physics",
        ]))
    }

    /// ES has no bitset network: the raw-with-network fields are absent, not zero.
    func testTrainBenchmarkWithoutNetwork() throws {
        let r = try TrainBenchmark.run(
            .init(environmentID: "InvertedPendulum-v5", algorithm: .es, population: 4, generations: 1, threads: 1, neurons: 64))
        XCTAssertNil(r.rawWithNetworkStepsPerSecond)
        XCTAssertNil(r.policyPhysicsStepsPerSecond)
        XCTAssertFalse(try keys(r).contains("raw_with_network_steps_per_s"))
        XCTAssertFalse(try keys(r).contains("policy_physics_steps_per_s"))
        assertMeasured(["ratio": r.ratio])
    }

    /// Raw stepping on the evaluator takes exactly the requested steps' worth of time shares and
    /// continues each worker's action sequence across calls.
    func testRawSteppingRunsOnTheEvaluator() throws {
        let spec = try TaskRegistry.spec(id: "InvertedPendulum-v5")
        let raw = try RawStepping(spec: spec, threads: 2, network: nil)
        XCTAssertEqual(raw.evaluator.threadCount, 2)
        let seconds = try raw.run(steps: 101)
        XCTAssertTrue(seconds.isFinite && seconds > 0)
        _ = try raw.run(steps: 10)
    }

    /// A replayed policy recording ends its episodes where the closed-loop run did, and the
    /// environment agrees at every step over more than one cycle (MuJoCo is deterministic); a
    /// recording that does not match the environment is refused at the first step that differs.
    func testPolicyReplayFollowsItsRecording() throws {
        let spec = try TaskRegistry.spec(id: "Hopper-v5")
        let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: 64)
        var worker = try RawSteppingWorker(spec: spec, lane: 0, network: shape, replayingPolicy: true)
        let ends = try XCTUnwrap(worker.endsEpisode)
        XCTAssertNil(worker.network, "the replay steps physics alone")
        XCTAssertEqual(ends.count, RawSteppingWorker.cycle)
        XCTAssertEqual(worker.episodesPerCycle, UInt64(ends.filter { $0 != 0 }.count))
        XCTAssertGreaterThan(worker.episodesPerCycle, 1, "a rho = 0.5 hopper falls within 4096 steps")
        XCTAssertNotEqual(ends.last, 0, "the cycle ends an episode")
        try worker.step(count: RawSteppingWorker.cycle + 500)
        XCTAssertEqual(worker.episode, worker.episodesPerCycle + UInt64(ends.prefix(500).filter { $0 != 0 }.count))
        XCTAssertThrowsError(try RawStepping(spec: spec, threads: 1, network: nil, replayingPolicy: true))

        // Another lane's recording (another policy, other episode ends) replayed here diverges.
        let other = try RawSteppingWorker(spec: spec, lane: 1, network: shape, replayingPolicy: true)
        XCTAssertNotEqual(other.endsEpisode, worker.endsEpisode)
        var mismatched = try RawSteppingWorker(
            spec: spec, replaying: PolicyRecording(actions: worker.actions, endsEpisode: try XCTUnwrap(other.endsEpisode), episodes: other.episodesPerCycle))
        XCTAssertThrowsError(try mismatched.step(count: RawSteppingWorker.cycle)) { error in
            XCTAssertTrue("\(error)".contains("diverged"), "\(error)")
        }
    }
}
