import CMuJoCo

/// Walker2d-v5 (Gymnasium 1.x), model `walker2d.xml` (the v5 asset: both feet with friction 1.9):
/// a two-legged planar robot walking forward.
///
/// - Model: nq = 9 (rootx, rootz, rooty, right thigh/leg/foot, left thigh/leg/foot), nv = 9, nu = 6;
///   4 x 0.002 s (dt 0.008).
/// - Action: 6 torques in [-1, 1], written to `ctrl` unclipped.
/// - Observation (17): `qpos[1...8]` (height, pitch, six joint angles) then `clip(qvel, -10, 10)` (9).
/// - Healthy: height `qpos[1]` in (0.8, 2.0) and pitch `qpos[2]` in (-1, 1), both strict.
/// - Reward, termination, reset and info: `PlanarLeggedRules`, defaults
///   `PlanarLeggedWeights.gymnasiumDefaults`. Truncated at 1000 steps.
struct Walker2dRules: PlanarLeggedRules {
    static let spec = TaskSpec(
        id: "Walker2d-v5", modelName: "walker2d", observationSize: 17, actionSize: 6, actionBound: (-1, 1),
        timestep: 0.002, frameSkip: 4,
        defaults: PlanarLeggedWeights.gymnasiumDefaults)

    let weights: PlanarLeggedWeights

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 9, nv: 9)
        weights = PlanarLeggedWeights(model: model, options: options, defaults: Self.spec.defaults)
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
}
