import CMuJoCo
import Randomness

/// The rules Hopper-v5 and Walker2d-v5 share (Gymnasium's `hopper_v5.py` and `walker2d_v5.py` differ
/// only in the model, the observation and the health test):
///
/// - Reward: `w_f * x_vel + healthy - w_c * Σ a²` with `x_vel = (qpos[0]_after - qpos[0]_before) / dt`,
///   `healthy = healthyReward` on healthy steps and 0 otherwise (v5: 0 on the terminal step).
/// - Terminated: not healthy and `terminateWhenUnhealthy`.
/// - Reset: qpos = qpos0 + U(-s, s), qvel = U(-s, s), s = resetNoiseScale.
/// - Info: x_position, z_distance_from_origin (qpos[1] - qpos0[1]), x_velocity, reward_forward,
///   reward_ctrl, reward_survive.
protocol PlanarLeggedRules: TaskRules {
    /// The resolved reward options and the initial height.
    var weights: PlanarLeggedWeights { get }
    /// The task's health test on the state after the step.
    func isHealthy(_ d: UnsafeMutablePointer<mjData>) -> Bool
}

/// The options `PlanarLeggedRules` reads, resolved once at construction, and qpos0[1] (the
/// reference of `z_distance_from_origin`).
struct PlanarLeggedWeights: Sendable {
    let forward: Double
    let ctrl: Double
    let healthyReward: Double
    let terminateWhenUnhealthy: Bool
    let initialHeight: Double

    /// The v5 defaults of both tasks: w_f = 1, w_c = 1e-3, healthyReward = 1, termination on,
    /// reset noise scale s = 5e-3.
    static let gymnasiumDefaults = EnvironmentOptions(
        resetNoiseScale: 5e-3, terminateWhenUnhealthy: true, forwardRewardWeight: 1, ctrlCostWeight: 1e-3,
        healthyReward: 1)

    /// `options` resolved (every option set); a missing value falls back to `defaults`.
    init(model: MuJoCoModel, options: EnvironmentOptions, defaults: EnvironmentOptions) {
        forward = options.forwardRewardWeight ?? defaults.forwardRewardWeight ?? 1
        ctrl = options.ctrlCostWeight ?? defaults.ctrlCostWeight ?? 1e-3
        healthyReward = options.healthyReward ?? defaults.healthyReward ?? 1
        terminateWhenUnhealthy = options.terminateWhenUnhealthy ?? defaults.terminateWhenUnhealthy ?? true
        initialHeight = model.qpos0[1]
    }
}

extension PlanarLeggedRules {
    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> {
        SIMD2(d.pointee.qpos[0], 0)
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        let healthy = isHealthy(d)
        t.xVelocity = (after.x - before.x) / dt
        t.forward = weights.forward * t.xVelocity
        t.survive = healthy ? weights.healthyReward : 0
        t.ctrlCost = weights.ctrl * sumOfSquares(action)
        t.reward = (t.forward + t.survive) - t.ctrlCost
        t.terminated = !healthy && weights.terminateWhenUnhealthy
        return t
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        [
            "x_position": d.pointee.qpos[0], "z_distance_from_origin": d.pointee.qpos[1] - weights.initialHeight,
            "x_velocity": terms.xVelocity, "reward_forward": terms.forward, "reward_ctrl": -terms.ctrlCost,
            "reward_survive": terms.survive,
        ]
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] {
        ["x_position": d.pointee.qpos[0], "z_distance_from_origin": d.pointee.qpos[1] - weights.initialHeight]
    }
}
