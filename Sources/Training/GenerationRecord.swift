import Foundation
import Search

/// The fitness statistics of one generation's members (finite fitnesses only).
public struct FitnessSummary: Sendable, Equatable {
    /// Mean, population standard deviation, minimum and maximum of the finite fitnesses (nil when
    /// every member diverged).
    public var mean: Double?
    public var standardDeviation: Double?
    public var minimum: Double?
    public var maximum: Double?
    /// Members whose fitness is not finite (diverged episodes).
    public var nonfiniteMembers: Int

    /// The summary of `fitnesses` (member order; the mean and variance summed in member order).
    public init(_ fitnesses: [Double]) {
        let finite = fitnesses.filter(\.isFinite)
        let mean = finite.reduce(0, +) / Double(max(finite.count, 1))
        let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(finite.count, 1))
        self.mean = finite.isEmpty ? nil : mean
        standardDeviation = finite.isEmpty ? nil : variance.squareRoot()
        minimum = finite.min()
        maximum = finite.max()
        nonfiniteMembers = fitnesses.count - finite.count
    }
}

/// Where one generation's wall-clock time went (every `wall_*` field of its metrics line).
public struct GenerationTiming: Sendable, Equatable {
    /// Seconds of training so far (including the time before a resume).
    public var totalSeconds: Double
    /// Environment steps per second of this process since it started or resumed.
    public var stepsPerSecond: Double
    /// This generation's rollouts (nil when they were not timed, e.g. outcomes handed in).
    public var rolloutSeconds: Double?
    /// Its update: statistics, optimizer step, normalizer.
    public var updateSeconds: Double
    /// Its evaluation of the deterministic network, when one ran.
    public var evaluationSeconds: Double?
}

/// Everything one generation reports: the typed content of its `metrics.jsonl` line.
public struct GenerationRecord: Sendable, Equatable {
    /// Generations completed.
    public var generation: Int
    /// Environment steps and episodes of all members so far.
    public var envSteps: Int
    public var episodes: Int
    public var fitness: FitnessSummary
    /// The generation's members (`PopulationSchedule`; nil without one).
    public var trainingPopulation: Int? = nil
    /// The scheduled evaluation of the deterministic network at this generation, if one ran.
    public var evaluation: EvaluationSummary?
    /// The same generation's evaluation over the scheduled and the confirming episodes, when it
    /// beat the best and `best_confirm_episodes` > 0.
    public var confirmation: EvaluationSummary? = nil
    /// The optimizer's diagnostics, in its order.
    public var diagnostics: Diagnostics
    public var timing: GenerationTiming

    /// The metrics line: `generation`, `env_steps`, `episodes`, `fitness_mean`, `fitness_std`,
    /// `fitness_min`, `fitness_max`, `nonfinite_members`,
    /// `train_population` (with a population schedule), the `eval_*` fields when evaluated,
    /// `confirm_return_mean`, `confirm_return_min`, `confirm_length_mean`, `confirm_episodes` when
    /// a new best was confirmed, one `opt_<snake_case name>` per diagnostic, then `wall_s`, `wall_steps_per_s`,
    /// `wall_rollouts_s` (when timed), `wall_update_s`, `wall_eval_s` (when evaluated).
    public var metricsRecord: MetricsRecord {
        var record = MetricsRecord()
        record.append("generation", generation)
        record.append("env_steps", envSteps)
        record.append("episodes", episodes)
        record.append("fitness_mean", fitness.mean.map(JSONValue.double) ?? .null)
        record.append("fitness_std", fitness.standardDeviation.map(JSONValue.double) ?? .null)
        record.append("fitness_min", fitness.minimum.map(JSONValue.double) ?? .null)
        record.append("fitness_max", fitness.maximum.map(JSONValue.double) ?? .null)
        record.append("nonfinite_members", fitness.nonfiniteMembers)
        if let trainingPopulation { record.append("train_population", trainingPopulation) }
        if let evaluation { evaluation.appendReturns(to: &record) }
        if let confirmation {
            record.append("confirm_return_mean", confirmation.mean)
            record.append("confirm_return_min", confirmation.minimum)
            record.append("confirm_length_mean", confirmation.meanLength)
            record.append("confirm_episodes", confirmation.returns.count)
        }
        for entry in diagnostics.entries {
            record.append("opt_" + snakeCase(entry.name), .double(entry.value))
        }
        record.append("wall_s", timing.totalSeconds)
        record.append("wall_steps_per_s", timing.stepsPerSecond)
        if let rollouts = timing.rolloutSeconds { record.append("wall_rollouts_s", rollouts) }
        record.append("wall_update_s", timing.updateSeconds)
        if let seconds = timing.evaluationSeconds { record.append("wall_eval_s", seconds) }
        return record
    }
}

extension EvaluationSummary {
    /// `eval_return_mean`, `eval_return_std`, `eval_return_min`, `eval_return_max`,
    /// `eval_length_mean` (the metrics line's and `evaluation.json`'s evaluation fields).
    func appendReturns(to record: inout MetricsRecord) {
        record.append("eval_return_mean", mean)
        record.append("eval_return_std", standardDeviation)
        record.append("eval_return_min", minimum)
        record.append("eval_return_max", maximum)
        record.append("eval_length_mean", meanLength)
    }

    /// The line of `evaluation.json`: the final evaluation with its episodes.
    func evaluationRecord(envSteps: Int, wallSeconds: Double) -> MetricsRecord {
        var record = MetricsRecord()
        record.append("generation", generation)
        record.append("env_steps", envSteps)
        record.append("episodes", returns.count)
        appendReturns(to: &record)
        record.append("returns", .array(returns.map(JSONValue.double)))
        record.append("lengths", .array(lengths.map(JSONValue.int)))
        record.append("wall_s", wallSeconds)
        return record
    }
}

/// "gradientEnergy" -> "gradient_energy", "realizedKL" -> "realized_kl".
func snakeCase(_ name: String) -> String {
    var out = ""
    var previous: Character? = nil
    for ch in name {
        if ch.isUppercase {
            if let p = previous, p.isLowercase || p.isNumber { out += "_" }
            out += ch.lowercased()
        } else {
            out.append(ch)
        }
        previous = ch
    }
    return out
}
