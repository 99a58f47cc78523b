import CMuJoCo
import Randomness

/// Ant-v5 (Gymnasium 1.x), model `ant.xml`: a four-legged robot walking forward in 3D.
///
/// - Model: nq = 15 (free joint: x y z + quaternion, then hip/ankle of four legs), nv = 14, nu = 8,
///   nbody = 14; 5 x 0.01 s (dt 0.05).
/// - Action: 8 torques in [-1, 1], written to `ctrl` unclipped.
/// - Observation (105): `qpos[2...14]` (13), `qvel` (14), `clip(cfrc_ext[1...13], -1, 1)` (13 bodies
///   x 6 = 78; the forces of `mj_rnePostConstraint`, 0 in the reset observation). With
///   `include_cfrc_ext_in_observation` false (default true) the contact forces are left out (27);
///   the reward keeps its contact cost either way.
/// - Reward: `w_f * x_vel + healthy - w_c * Σ a² - w_k * Σ clip(cfrc_ext, -1, 1)²`, where
///   `(x_vel, y_vel) = (xpos_after - xpos_before)[x, y] / dt` of the torso body frame `xpos`. After
///   `mj_step`, `xpos` is from the start of the last physics substep; Gymnasium uses it as it is, and so
///   does this file. `healthy = healthyReward` on healthy steps, 0 otherwise. The contact sum runs over
///   all bodies (row 0, the world, is 0). Defaults w_f = 1, w_c = 0.5, w_k = 5e-4, healthyReward = 1.
/// - Healthy: qpos and qvel all finite and torso height `qpos[2]` in [0.2, 1.0] (inclusive).
/// - Terminated: not healthy and `terminateWhenUnhealthy` (default true). Truncated at 1000 steps.
/// - Reset: qpos = qpos0 + U(-s, s) on all 15 coordinates (the quaternion is not renormalised),
///   qvel = s * N(0, 1), s = resetNoiseScale (default 0.1).
/// - Info: x_position, y_position (qpos[0], qpos[1]), distance_from_origin (|qpos[0...1] - qpos0[0...1]|),
///   x_velocity, y_velocity, reward_forward, reward_ctrl, reward_contact, reward_survive.
struct AntRules: TaskRules {
    static let spec = TaskSpec(
        id: "Ant-v5", modelName: "ant", observationSize: 105, actionSize: 8, actionBound: (-1, 1),
        timestep: 0.01, frameSkip: 5,
        defaults: EnvironmentOptions(
            resetNoiseScale: 0.1, terminateWhenUnhealthy: true, forwardRewardWeight: 1, ctrlCostWeight: 0.5,
            healthyReward: 1, contactCostWeight: 5e-4, includeCfrcExtInObservation: true))

    /// 27, plus 78 contact forces by default.
    static func observationSize(options: EnvironmentOptions) -> Int {
        27 + (options.includeCfrcExtInObservation ?? true ? 78 : 0)
    }

    let forwardWeight: Double
    let ctrlWeight: Double
    let contactWeight: Double
    let healthyReward: Double
    let terminateWhenUnhealthy: Bool
    let includeContactForces: Bool
    let initialXY: SIMD2<Double>
    let nbody = 14
    /// The torso ("main body" of Gymnasium's Ant).
    let torso = 1

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 15, nv: 14)
        guard model.nbody == nbody else {
            throw EnvironmentError.invalidOption(
                task: Self.spec.id, option: "model", reason: "nbody is \(model.nbody), expected \(nbody)")
        }
        forwardWeight = options.forwardRewardWeight ?? 1
        ctrlWeight = options.ctrlCostWeight ?? 0.5
        contactWeight = options.contactCostWeight ?? 5e-4
        healthyReward = options.healthyReward ?? 1
        terminateWhenUnhealthy = options.terminateWhenUnhealthy ?? true
        includeContactForces = options.includeCfrcExtInObservation ?? true
        let qpos0 = model.qpos0
        initialXY = SIMD2(qpos0[0], qpos0[1])
    }

    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNormalNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> {
        let xpos = d.pointee.xpos!
        return SIMD2(xpos[3 * torso], xpos[3 * torso + 1])
    }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!, cfrc = d.pointee.cfrc_ext!
        for i in 0..<13 { out[i] = qpos[2 + i] }
        for i in 0..<14 { out[13 + i] = qvel[i] }
        guard includeContactForces else { return }
        for i in 0..<(6 * (nbody - 1)) { out[27 + i] = clip(cfrc[6 + i], -1, 1) }
    }

    func isHealthy(_ d: UnsafeMutablePointer<mjData>) -> Bool {
        let qpos = d.pointee.qpos!, qvel = d.pointee.qvel!
        for i in 0..<15 where !qpos[i].isFinite { return false }
        for i in 0..<14 where !qvel[i].isFinite { return false }
        return 0.2 <= qpos[2] && qpos[2] <= 1.0
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        let healthy = isHealthy(d)
        let velocity = (after - before) / dt
        t.xVelocity = velocity.x
        t.yVelocity = velocity.y
        t.forward = t.xVelocity * forwardWeight
        t.survive = healthy ? healthyReward : 0
        t.ctrlCost = ctrlWeight * sumOfSquares(action)
        let cfrc = d.pointee.cfrc_ext!
        var contact = 0.0
        for i in 0..<(6 * nbody) {
            let f = clip(cfrc[i], -1, 1)
            contact += f * f
        }
        t.contactCost = contactWeight * contact
        t.reward = (t.forward + t.survive) - (t.ctrlCost + t.contactCost)
        t.terminated = !healthy && terminateWhenUnhealthy
        return t
    }

    func positionInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] {
        let x = d.pointee.qpos[0], y = d.pointee.qpos[1]
        let dx = x - initialXY.x, dy = y - initialXY.y
        return ["x_position": x, "y_position": y, "distance_from_origin": (dx * dx + dy * dy).squareRoot()]
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        var info = positionInfo(d)
        info["x_velocity"] = terms.xVelocity
        info["y_velocity"] = terms.yVelocity
        info["reward_forward"] = terms.forward
        info["reward_ctrl"] = -terms.ctrlCost
        info["reward_contact"] = -terms.contactCost
        info["reward_survive"] = terms.survive
        return info
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] { positionInfo(d) }
}
