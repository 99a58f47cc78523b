import CMuJoCo
import Randomness

/// HalfCheetah-v5 (Gymnasium 1.x), model `half_cheetah.xml`: a planar cat-like robot running forward.
///
/// - Model: nq = 9 (rootx, rootz, rooty, back thigh/shin/foot, front thigh/shin/foot), nv = 9,
///   nu = 6; 5 x 0.01 s, Euler integrator (dt 0.05).
/// - Action: 6 torques in [-1, 1], written to `ctrl` unclipped.
/// - Observation (17): `qpos[1...8]` then `qvel` (9), not clipped.
/// - Reward: `w_f * x_vel - w_c * Σ a²` with `x_vel = (qpos[0]_after - qpos[0]_before) / dt`.
///   Defaults w_f = 1, w_c = 0.1.
/// - Terminated: never. Truncated at 1000 steps.
/// - Reset: qpos = qpos0 + U(-s, s), qvel = s * N(0, 1), s = resetNoiseScale (default 0.1).
/// - Info: x_position, x_velocity, reward_forward, reward_ctrl.
struct HalfCheetahRules: TaskRules {
    static let spec = TaskSpec(
        id: "HalfCheetah-v5", modelName: "half_cheetah", observationSize: 17, actionSize: 6, actionBound: (-1, 1),
        timestep: 0.01, frameSkip: 5,
        defaults: EnvironmentOptions(resetNoiseScale: 0.1, forwardRewardWeight: 1, ctrlCostWeight: 0.1))

    let forwardWeight: Double
    let ctrlWeight: Double

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 9, nv: 9)
        forwardWeight = options.forwardRewardWeight ?? 1
        ctrlWeight = options.ctrlCostWeight ?? 0.1
    }

    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNormalNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> {
        SIMD2(d.pointee.qpos[0], 0)
    }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        for i in 0..<8 { out[i] = qpos[1 + i] }
        for i in 0..<9 { out[8 + i] = qvel[i] }
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        t.xVelocity = (after.x - before.x) / dt
        t.forward = forwardWeight * t.xVelocity
        t.ctrlCost = ctrlWeight * sumOfSquares(action)
        t.reward = t.forward - t.ctrlCost
        return t
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        [
            "x_position": d.pointee.qpos[0], "x_velocity": terms.xVelocity, "reward_forward": terms.forward,
            "reward_ctrl": -terms.ctrlCost,
        ]
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] {
        ["x_position": d.pointee.qpos[0]]
    }
}
