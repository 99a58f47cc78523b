import CMuJoCo
import Randomness

/// What a task computes after the physics of one step.
struct StepTerms {
    /// The step's reward.
    var reward: Double = 0
    /// The task's termination rule fired (already combined with `terminateWhenUnhealthy`).
    var terminated = false
    var xVelocity = 0.0
    var yVelocity = 0.0
    /// Forward reward (weight x velocity).
    var forward = 0.0
    /// Control cost (positive; Gymnasium reports `reward_ctrl = -ctrlCost`).
    var ctrlCost = 0.0
    /// Contact cost (positive; `reward_contact = -contactCost`).
    var contactCost = 0.0
    /// Healthy / alive reward paid on this step.
    var survive = 0.0
    /// InvertedDoublePendulum's penalties (positive).
    var distancePenalty = 0.0
    var velocityPenalty = 0.0
}

/// The rules of one task (one file per task). All functions read the task's `MuJoCoData` through
/// its raw pointer; they run on the hot path and must not allocate (except the `info` functions).
protocol TaskRules: SendableMetatype {
    /// The task's static description.
    static var spec: TaskSpec { get }

    /// Checks the compiled model (sizes, bodies, sites the rules use) and stores the resolved
    /// options (every option of the task is set).
    init(model: MuJoCoModel, options: EnvironmentOptions) throws

    /// Adds reset noise to `qpos` (holding qpos0) and `qvel` (holding zeros): nq position noises
    /// first, then nv velocity noises, all drawn from `random`.
    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream)

    /// The position the forward velocity is measured from, read before and after the step.
    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double>

    /// The observation's length under `options` (resolved: every option of the task set).
    static func observationSize(options: EnvironmentOptions) -> Int

    /// Writes the observation (`observationSize(options:)` values for the options in effect).
    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>)

    /// Reward, termination and reward terms after the physics of a step.
    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms

    /// Gymnasium's step info for the current state and `terms`.
    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double]

    /// Gymnasium's reset info (position keys; empty for the pendulums).
    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double]
}

extension TaskRules {
    /// Tasks without observation options: always `spec.observationSize`.
    static func observationSize(options: EnvironmentOptions) -> Int { spec.observationSize }

    /// The task's spec with the observation length under `options` (resolved).
    static func spec(options: EnvironmentOptions) -> TaskSpec {
        var resolved = spec
        resolved.observationSize = observationSize(options: options)
        return resolved
    }

    /// Gymnasium's `reset_model` noise for most tasks: qpos += U(-scale, scale), qvel += U(-scale, scale).
    @inline(__always)
    func addUniformNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        for i in qpos.indices { qpos[i] += random.nextUniform(-scale, scale) }
        for i in qvel.indices { qvel[i] += random.nextUniform(-scale, scale) }
    }

    /// The HalfCheetah / Ant / InvertedDoublePendulum variant: qpos += U(-scale, scale),
    /// qvel += scale * N(0, 1).
    @inline(__always)
    func addUniformNormalNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        for i in qpos.indices { qpos[i] += random.nextUniform(-scale, scale) }
        for i in qvel.indices { qvel[i] += scale * random.nextNormal() }
    }

    /// Checks the model's sizes and action box against `spec`.
    static func checkModel(_ model: MuJoCoModel, nq: Int, nv: Int) throws {
        func mismatch(_ what: String) -> EnvironmentError {
            EnvironmentError.invalidOption(
                task: spec.id, option: "model", reason: "the model from \(model.source) does not match the task: \(what)")
        }
        guard model.nq == nq, model.nv == nv else { throw mismatch("nq/nv are \(model.nq)/\(model.nv), expected \(nq)/\(nv)") }
        guard model.nu == spec.actionSize else { throw mismatch("nu is \(model.nu), expected \(spec.actionSize)") }
        guard model.timestep == spec.timestep else { throw mismatch("timestep is \(model.timestep), expected \(spec.timestep)") }
        let range = model.actuatorCtrlRange
        for i in 0..<spec.actionSize where range[2 * i] != spec.actionLow[i] || range[2 * i + 1] != spec.actionHigh[i] {
            throw mismatch("ctrlrange of actuator \(i) is [\(range[2 * i]), \(range[2 * i + 1])]")
        }
    }
}

/// Σ aᵢ² over a buffer.
@inline(__always)
func sumOfSquares(_ values: UnsafeBufferPointer<Double>) -> Double {
    var sum = 0.0
    for v in values { sum += v * v }
    return sum
}

/// Σ aᵢ² over `count` values at `base`.
@inline(__always)
func sumOfSquares(_ base: UnsafePointer<Double>, count: Int) -> Double {
    var sum = 0.0
    for i in 0..<count { sum += base[i] * base[i] }
    return sum
}

/// `min(max(x, low), high)` (NaN passes through, as in numpy's clip).
@inline(__always)
func clip(_ x: Double, _ low: Double, _ high: Double) -> Double {
    x < low ? low : (x > high ? high : x)
}

/// One environment of task `Rules`: the Gymnasium v5 step/reset protocol around a `MuJoCoData`.
final class TaskEnvironment<Rules: TaskRules>: Environment {
    let spec: TaskSpec
    let options: EnvironmentOptions
    let rules: Rules
    let data: MuJoCoData
    private let d: UnsafeMutablePointer<mjData>
    private let m: UnsafePointer<mjModel>
    private let frameSkip: Int32
    private let dt: Double
    private let noiseScale: Double
    private let nq: Int
    private let nv: Int
    private let nu: Int
    /// The noisy reset qpos, restored after mj_forward (see `resetInPlace`).
    private var resetQpos: [Double]
    private(set) var elapsedSteps = 0
    /// Why the next step must be preceded by a reset (nil while an episode runs).
    private var resetReason: String? = "no episode has started"

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        self.spec = Rules.spec(options: options)
        self.options = options
        self.rules = try Rules(model: model, options: options)
        self.data = try MuJoCoData(model: model)
        self.d = data.pointer
        self.m = UnsafePointer(model.pointer)
        self.frameSkip = Int32(Rules.spec.frameSkip)
        self.dt = model.timestep * Double(Rules.spec.frameSkip)
        self.noiseScale = options.resetNoiseScale ?? Rules.spec.defaultResetNoiseScale
        self.nq = model.nq
        self.nv = model.nv
        self.nu = model.nu
        self.resetQpos = [Double](repeating: 0, count: model.nq)
    }

    func reset(seed: UInt64) -> [Double] {
        var observation = [Double](repeating: 0, count: spec.observationSize)
        observation.withUnsafeMutableBufferPointer { buffer in
            // Only a MuJoCo error can fail here; it is kept in `resetReason` and thrown by the next step.
            try? resetInPlace(seed: seed, observation: buffer.baseAddress!)
        }
        return observation
    }

    func reset(seed: UInt64, observation: UnsafeMutableBufferPointer<Double>) throws {
        guard observation.count == spec.observationSize else {
            throw EnvironmentError.observationSizeMismatch(
                task: spec.id, expected: spec.observationSize, actual: observation.count)
        }
        try resetInPlace(seed: seed, observation: observation.baseAddress!)
    }

    private func resetInPlace(seed: UInt64, observation: UnsafeMutablePointer<Double>) throws {
        elapsedSteps = 0
        do {
            try data.reset()
            if noiseScale != 0 {
                var random = CounterStream(seed: seed, generation: 0, member: 0, purpose: .resetNoise)
                rules.addResetNoise(
                    qpos: UnsafeMutableBufferPointer(start: d.pointee.qpos, count: nq),
                    qvel: UnsafeMutableBufferPointer(start: d.pointee.qvel, count: nv),
                    scale: noiseScale, random: &random)
            }
            // MuJoCo 2.2.2's mj_forward normalises free-joint quaternions inside qpos (Ant, Humanoid);
            // MuJoCo 3 (Gymnasium's reference) normalises a copy and leaves qpos as set. Keep the
            // state exactly qpos0 + noise, as Gymnasium does; the kinematics use the normalised
            // quaternion either way, and the first mj_step normalises qpos.
            let qpos = d.pointee.qpos!
            resetQpos.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: qpos, count: nq) }
            try data.forward()
            resetQpos.withUnsafeBufferPointer { qpos.update(from: $0.baseAddress!, count: nq) }
            resetReason = nil
        } catch {
            resetReason = "the reset failed: \(error)"
            observation.update(repeating: .nan, count: spec.observationSize)
            throw error
        }
        rules.writeObservation(d, into: observation)
    }

    func resetInfo() -> [String: Double] { rules.resetInfo(d) }

    func step(_ action: [Double]) throws -> StepResult {
        var observation = [Double](repeating: 0, count: spec.observationSize)
        let (terms, truncated) = try action.withUnsafeBufferPointer { actionBuffer in
            try observation.withUnsafeMutableBufferPointer { obs in
                try stepInPlace(action: actionBuffer, observation: obs.baseAddress!)
            }
        }
        return StepResult(
            observation: observation, reward: terms.reward, terminated: terms.terminated, truncated: truncated,
            info: rules.stepInfo(d, terms: terms))
    }

    func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws
        -> (reward: Double, terminated: Bool, truncated: Bool)
    {
        guard observation.count == spec.observationSize, let out = observation.baseAddress else {
            throw EnvironmentError.observationSizeMismatch(
                task: spec.id, expected: spec.observationSize, actual: observation.count)
        }
        let (terms, truncated) = try stepInPlace(action: action, observation: out)
        return (terms.reward, terms.terminated, truncated)
    }

    @inline(__always)
    private func stepInPlace(action: UnsafeBufferPointer<Double>, observation: UnsafeMutablePointer<Double>) throws
        -> (StepTerms, Bool)
    {
        if let resetReason { throw EnvironmentError.resetRequired(task: spec.id, reason: resetReason) }
        guard action.count == nu else {
            throw EnvironmentError.actionSizeMismatch(task: spec.id, expected: nu, actual: action.count)
        }
        for i in 0..<nu where !action[i].isFinite {
            throw EnvironmentError.nonFiniteAction(task: spec.id, index: i, value: action[i])
        }
        let before = rules.trackedPosition(d)
        d.pointee.ctrl.update(from: action.baseAddress!, count: nu)
        do {
            try data.stepThenRNEPostConstraint(count: Int(frameSkip))
        } catch {
            resetReason = "the last step failed: \(error)"
            throw error
        }
        let after = rules.trackedPosition(d)
        rules.writeObservation(d, into: observation)
        let terms = rules.evaluate(d, action: action, before: before, after: after, dt: dt)
        elapsedSteps += 1
        let truncated = elapsedSteps >= spec.maxEpisodeSteps
        if terms.terminated {
            resetReason = "the episode terminated at step \(elapsedSteps)"
        } else if truncated {
            resetReason = "the episode was truncated at step \(elapsedSteps)"
        }
        return (terms, truncated)
    }
}
