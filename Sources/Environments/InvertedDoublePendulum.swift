import CMuJoCo
import Foundation
import Randomness

/// InvertedDoublePendulum-v5 (Gymnasium 1.x), model `inverted_double_pendulum.xml`: keep a two-link
/// pole upright on a cart.
///
/// - Model: nq = 3 (cart slider, hinge 1, hinge 2), nv = 3, nu = 1, one site "tip" at the pole's end;
///   5 x 0.01 s (dt 0.05).
/// - Action: 1 force in [-1, 1], written to `ctrl` unclipped.
/// - Observation (9): `qpos[0]`, `sin(qpos[1...2])`, `cos(qpos[1...2])`, `clip(qvel, -10, 10)` (3),
///   `clip(qfrc_constraint[0], -10, 10)`.
/// - Terminated: tip height `y_tip <= 1`, with `(x_tip, _, y_tip) = site_xpos[0]` (from the start of the
///   last physics substep, as in Gymnasium). Truncated at 1000 steps.
/// - Reward: `alive - (0.01 x_tip² + (y_tip - 2)²) - (1e-3 v1² + 5e-3 v2²)` with `v1, v2 = qvel[1], qvel[2]`
///   and `alive = healthyReward` (default 10) on non-terminal steps, 0 on the terminal step (the
///   penalties still apply there).
/// - Reset: qpos = qpos0 + U(-s, s), qvel = s * N(0, 1), s = resetNoiseScale (default 0.1).
/// - Info: reward_survive, distance_penalty, velocity_penalty (the penalties negated).
struct InvertedDoublePendulumRules: TaskRules {
    static let spec = TaskSpec(
        id: "InvertedDoublePendulum-v5", modelName: "inverted_double_pendulum", observationSize: 9, actionSize: 1,
        actionBound: (-1, 1), timestep: 0.01, frameSkip: 5,
        defaults: EnvironmentOptions(resetNoiseScale: 0.1, healthyReward: 10))

    let healthyReward: Double

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 3, nv: 3)
        guard model.nsite >= 1 else {
            throw EnvironmentError.invalidOption(task: Self.spec.id, option: "model", reason: "the model has no tip site")
        }
        healthyReward = options.healthyReward ?? 10
    }

    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNormalNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> { .zero }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        out[0] = qpos[0]
        out[1] = sin(qpos[1])
        out[2] = sin(qpos[2])
        out[3] = cos(qpos[1])
        out[4] = cos(qpos[2])
        for i in 0..<3 { out[5 + i] = clip(qvel[i], -10, 10) }
        out[8] = clip(d.pointee.qfrc_constraint[0], -10, 10)
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        let site = d.pointee.site_xpos!
        let x = site[0], y = site[2]
        let v1 = d.pointee.qvel[1], v2 = d.pointee.qvel[2]
        t.terminated = y <= 1
        t.distancePenalty = 0.01 * (x * x) + (y - 2) * (y - 2)
        t.velocityPenalty = 1e-3 * (v1 * v1) + 5e-3 * (v2 * v2)
        t.survive = t.terminated ? 0 : healthyReward
        t.reward = t.survive - t.distancePenalty - t.velocityPenalty
        return t
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        [
            "reward_survive": terms.survive, "distance_penalty": -terms.distancePenalty,
            "velocity_penalty": -terms.velocityPenalty,
        ]
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] { [:] }
}
