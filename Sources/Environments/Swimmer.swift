import CMuJoCo
import Randomness

/// Swimmer-v5 (Gymnasium 1.x), model `swimmer.xml`: a three-link planar swimmer in a viscous fluid.
///
/// - Model: nq = 5 (slider x, slider y, hinge rot, joints 1 and 2), nv = 5, nu = 2; 4 x 0.01 s (dt 0.04).
/// - Action: 2 torques in [-1, 1], written to `ctrl` unclipped.
/// - Observation (8): `qpos[2...4]` (3) then `qvel` (5), not clipped.
/// - Reward: `w_f * x_vel - w_c * Σ a²` with `(x_vel, y_vel) = (qpos[0...1]_after - qpos[0...1]_before) / dt`.
///   Defaults w_f = 1, w_c = 1e-4.
/// - Terminated: never. Truncated at 1000 steps.
/// - Reset: qpos = qpos0 + U(-s, s), qvel = U(-s, s), s = resetNoiseScale (default 0.1).
/// - Info: x_position, y_position, distance_from_origin (|qpos[0...1]|), x_velocity, y_velocity,
///   reward_forward, reward_ctrl.
struct SwimmerRules: TaskRules {
    static let spec = TaskSpec(
        id: "Swimmer-v5", modelName: "swimmer", observationSize: 8, actionSize: 2, actionBound: (-1, 1),
        timestep: 0.01, frameSkip: 4,
        defaults: EnvironmentOptions(resetNoiseScale: 0.1, forwardRewardWeight: 1, ctrlCostWeight: 1e-4))

    let forwardWeight: Double
    let ctrlWeight: Double

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 5, nv: 5)
        forwardWeight = options.forwardRewardWeight ?? 1
        ctrlWeight = options.ctrlCostWeight ?? 1e-4
    }

    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> {
        SIMD2(d.pointee.qpos[0], d.pointee.qpos[1])
    }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        for i in 0..<3 { out[i] = qpos[2 + i] }
        for i in 0..<5 { out[3 + i] = qvel[i] }
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        t.xVelocity = (after.x - before.x) / dt
        t.yVelocity = (after.y - before.y) / dt
        t.forward = forwardWeight * t.xVelocity
        t.ctrlCost = ctrlWeight * sumOfSquares(action)
        t.reward = t.forward - t.ctrlCost
        return t
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        let x = d.pointee.qpos[0], y = d.pointee.qpos[1]
        return [
            "x_position": x, "y_position": y, "distance_from_origin": (x * x + y * y).squareRoot(),
            "x_velocity": terms.xVelocity, "y_velocity": terms.yVelocity, "reward_forward": terms.forward,
            "reward_ctrl": -terms.ctrlCost,
        ]
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] {
        let x = d.pointee.qpos[0], y = d.pointee.qpos[1]
        return ["x_position": x, "y_position": y, "distance_from_origin": (x * x + y * y).squareRoot()]
    }
}
