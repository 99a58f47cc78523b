import CMuJoCo
import Randomness

/// Walker2d-v5 (Gymnasium 1.x), model `walker2d.xml` (the v5 asset: both feet with friction 1.9):
/// a two-legged planar robot walking forward.
///
/// - Model: nq = 9 (rootx, rootz, rooty, right thigh/leg/foot, left thigh/leg/foot), nv = 9, nu = 6;
///   4 x 0.002 s (dt 0.008).
/// - Action: 6 torques in [-1, 1], written to `ctrl` unclipped.
/// - Observation (17): `qpos[1...8]` (height, pitch, six joint angles) then `clip(qvel, -10, 10)` (9).
/// - Reward: `w_f * x_vel + healthy - w_c * Σ a²` with `x_vel = (qpos[0]_after - qpos[0]_before) / dt`,
///   `healthy = healthyReward` on healthy steps and 0 otherwise (v5: 0 on the terminal step).
///   Defaults w_f = 1, w_c = 1e-3, healthyReward = 1.
/// - Healthy: height `qpos[1]` in (0.8, 2.0) and pitch `qpos[2]` in (-1, 1), both strict.
/// - Terminated: not healthy and `terminateWhenUnhealthy` (default true). Truncated at 1000 steps.
/// - Reset: qpos = qpos0 + U(-s, s), qvel = U(-s, s), s = resetNoiseScale (default 5e-3).
/// - Info: x_position, z_distance_from_origin (qpos[1] - qpos0[1]), x_velocity, reward_forward,
///   reward_ctrl, reward_survive.
struct Walker2dRules: TaskRules {
    static let spec = TaskSpec(
        id: "Walker2d-v5", modelName: "walker2d", observationSize: 17, actionSize: 6, actionBound: (-1, 1),
        timestep: 0.002, frameSkip: 4,
        defaults: EnvironmentOptions(
            resetNoiseScale: 5e-3, terminateWhenUnhealthy: true, forwardRewardWeight: 1, ctrlCostWeight: 1e-3,
            healthyReward: 1))

    let forwardWeight: Double
    let ctrlWeight: Double
    let healthyReward: Double
    let terminateWhenUnhealthy: Bool
    let initialHeight: Double

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 9, nv: 9)
        forwardWeight = options.forwardRewardWeight ?? 1
        ctrlWeight = options.ctrlCostWeight ?? 1e-3
        healthyReward = options.healthyReward ?? 1
        terminateWhenUnhealthy = options.terminateWhenUnhealthy ?? true
        initialHeight = model.qpos0[1]
    }

    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> {
        SIMD2(d.pointee.qpos[0], 0)
    }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        for i in 0..<8 { out[i] = qpos[1 + i] }
        for i in 0..<9 { out[8 + i] = clip(qvel[i], -10, 10) }
    }

    func isHealthy(_ d: UnsafeMutablePointer<mjData>) -> Bool {
        let z = d.pointee.qpos[1], angle = d.pointee.qpos[2]
        return 0.8 < z && z < 2.0 && -1 < angle && angle < 1
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        let healthy = isHealthy(d)
        t.xVelocity = (after.x - before.x) / dt
        t.forward = forwardWeight * t.xVelocity
        t.survive = healthy ? healthyReward : 0
        t.ctrlCost = ctrlWeight * sumOfSquares(action)
        t.reward = (t.forward + t.survive) - t.ctrlCost
        t.terminated = !healthy && terminateWhenUnhealthy
        return t
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        [
            "x_position": d.pointee.qpos[0], "z_distance_from_origin": d.pointee.qpos[1] - initialHeight,
            "x_velocity": terms.xVelocity, "reward_forward": terms.forward, "reward_ctrl": -terms.ctrlCost,
            "reward_survive": terms.survive,
        ]
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] {
        ["x_position": d.pointee.qpos[0], "z_distance_from_origin": d.pointee.qpos[1] - initialHeight]
    }
}
