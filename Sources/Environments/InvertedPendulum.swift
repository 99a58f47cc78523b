import CMuJoCo
import Randomness

/// InvertedPendulum-v5 (Gymnasium 1.x), model `inverted_pendulum.xml`: keep a pole upright on a cart.
///
/// - Model: nq = 2 (cart slider, pole hinge), nv = 2, nu = 1; 2 x 0.02 s (dt 0.04).
/// - Action: 1 force in [-3, 3], written to `ctrl` unclipped.
/// - Observation (4): `qpos` (2) then `qvel` (2).
/// - Terminated: `|qpos[1]| > 0.2` or a non-finite observation. Truncated at 1000 steps.
/// - Reward: 1 on every non-terminal step, 0 on the terminal step.
/// - Reset: qpos = qpos0 + U(-s, s), qvel = U(-s, s), s = resetNoiseScale (default 0.01).
/// - Options: only `resetNoiseScale`.
/// - Info: reward_survive (= the reward).
struct InvertedPendulumRules: TaskRules {
    static let spec = TaskSpec(
        id: "InvertedPendulum-v5", modelName: "inverted_pendulum", observationSize: 4, actionSize: 1,
        actionBound: (-3, 3), timestep: 0.02, frameSkip: 2,
        defaults: EnvironmentOptions(resetNoiseScale: 0.01))

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 2, nv: 2)
    }

    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> { .zero }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        out[0] = d.pointee.qpos[0]
        out[1] = d.pointee.qpos[1]
        out[2] = d.pointee.qvel[0]
        out[3] = d.pointee.qvel[1]
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        let finite = qpos[0].isFinite && qpos[1].isFinite && qvel[0].isFinite && qvel[1].isFinite
        t.terminated = !finite || abs(qpos[1]) > 0.2
        t.survive = t.terminated ? 0 : 1
        t.reward = t.survive
        return t
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        ["reward_survive": terms.survive]
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] { [:] }
}
