import CMuJoCo

/// Hopper-v5 (Gymnasium 1.x), model `hopper.xml`: a one-legged planar robot hopping forward.
///
/// - Model: nq = 6 (rootx, rootz, rooty, thigh, leg, foot), nv = 6, nu = 3; 4 x 0.002 s (dt 0.008).
/// - Action: 3 torques in [-1, 1], written to `ctrl` unclipped.
/// - Observation (11): `qpos[1...5]` (height, pitch, three joint angles) then `clip(qvel, -10, 10)` (6).
/// - Healthy: every value of `qpos[2...]` and of the unclipped `qvel` in (-100, 100), height
///   `qpos[1] > 0.7`, pitch `qpos[2]` in (-0.2, 0.2), all strict.
/// - Reward, termination, reset and info: `PlanarLeggedRules`, defaults
///   `PlanarLeggedWeights.gymnasiumDefaults`. Truncated at 1000 steps.
struct HopperRules: PlanarLeggedRules {
    static let spec = TaskSpec(
        id: "Hopper-v5", modelName: "hopper", observationSize: 11, actionSize: 3, actionBound: (-1, 1),
        timestep: 0.002, frameSkip: 4,
        defaults: PlanarLeggedWeights.gymnasiumDefaults)

    let weights: PlanarLeggedWeights

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 6, nv: 6)
        weights = PlanarLeggedWeights(model: model, options: options, defaults: Self.spec.defaults)
    }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        for i in 0..<5 { out[i] = qpos[1 + i] }
        for i in 0..<6 { out[5 + i] = clip(qvel[i], -10, 10) }
    }

    func isHealthy(_ d: UnsafeMutablePointer<mjData>) -> Bool {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        for i in 2..<6 where !(-100 < qpos[i] && qpos[i] < 100) { return false }
        for i in 0..<6 where !(-100 < qvel[i] && qvel[i] < 100) { return false }
        let z = qpos[1], angle = qpos[2]
        return 0.7 < z && -0.2 < angle && angle < 0.2
    }
}
