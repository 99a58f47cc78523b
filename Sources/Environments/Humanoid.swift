import CMuJoCo
import Randomness

/// Humanoid-v5 (Gymnasium 1.x), model `humanoid.xml`: a 3D humanoid running forward.
///
/// - Model: nq = 24 (free joint + 17 hinges), nv = 23, nu = 17, nbody = 14, 2 tendons;
///   5 x 0.003 s, PGS solver with 50 iterations (dt 0.015).
/// - Action: 17 torques in [-0.4, 0.4], written to `ctrl` unclipped.
/// - Observation (348): `qpos[2...23]` (22), `qvel` (23), `cinert[1...13]` (130), `cvel[1...13]` (78),
///   `qfrc_actuator[6...22]` (17), `cfrc_ext[1...13]` (78), none clipped. `cinert`/`cvel` come from the
///   start of the last physics substep; `cfrc_ext` and `qfrc_actuator` are 0 in the reset observation.
///   The last four blocks are each left out when their option `include_cinert_in_observation`,
///   `include_cvel_in_observation`, `include_qfrc_actuator_in_observation` or
///   `include_cfrc_ext_in_observation` is false (all true by default), the others keeping their
///   order: with all four false the observation is `qpos[2...23]`, `qvel` (45). The reward keeps its
///   contact cost either way.
/// - Reward: `w_f * v_com + healthy - w_c * Σ ctrl² - min(w_k * Σ cfrc_ext², 10)`, where `v_com` is the
///   x velocity of the mass-weighted centre of mass `Σ m_b xipos_b / Σ m_b` over all bodies (as with
///   Ant's `xpos`, `xipos` lags one substep and is used as it is). `healthy = healthyReward` on healthy
///   steps, 0 otherwise. Defaults w_f = 1.25, w_c = 0.1, w_k = 5e-7, healthyReward = 5.
/// - Healthy: torso height `qpos[2]` in (1.0, 2.0), strict.
/// - Terminated: not healthy and `terminateWhenUnhealthy` (default true). Truncated at 1000 steps.
/// - Reset: qpos = qpos0 + U(-s, s), qvel = U(-s, s), s = resetNoiseScale (default 0.01).
/// - Info: x_position, y_position, tendon_length[0...1], tendon_velocity[0...1], distance_from_origin,
///   x_velocity, y_velocity, reward_survive, reward_forward, reward_ctrl, reward_contact.
struct HumanoidRules: TaskRules {
    static let spec = TaskSpec(
        id: "Humanoid-v5", modelName: "humanoid", observationSize: 348, actionSize: 17, actionBound: (-0.4, 0.4),
        timestep: 0.003, frameSkip: 5,
        defaults: EnvironmentOptions(
            resetNoiseScale: 0.01, terminateWhenUnhealthy: true, forwardRewardWeight: 1.25, ctrlCostWeight: 0.1,
            healthyReward: 5, contactCostWeight: 5e-7, includeCinertInObservation: true, includeCvelInObservation: true,
            includeQfrcActuatorInObservation: true, includeCfrcExtInObservation: true))

    /// 45 + 130 + 78 + 17 + 78 with every block included.
    static func observationSize(options: EnvironmentOptions) -> Int {
        let blocks = Blocks(options: options)
        return 45 + (blocks.cinert ? 130 : 0) + (blocks.cvel ? 78 : 0) + (blocks.qfrcActuator ? 17 : 0)
            + (blocks.cfrcExt ? 78 : 0)
    }

    /// Which optional blocks the observation holds (absent options: the default, included).
    struct Blocks {
        let cinert: Bool, cvel: Bool, qfrcActuator: Bool, cfrcExt: Bool
        init(options: EnvironmentOptions) {
            cinert = options.includeCinertInObservation ?? true
            cvel = options.includeCvelInObservation ?? true
            qfrcActuator = options.includeQfrcActuatorInObservation ?? true
            cfrcExt = options.includeCfrcExtInObservation ?? true
        }
    }

    let forwardWeight: Double
    let ctrlWeight: Double
    let contactWeight: Double
    let healthyReward: Double
    let terminateWhenUnhealthy: Bool
    let blocks: Blocks
    let initialXY: SIMD2<Double>
    let nbody = 14
    let ntendon = 2
    /// Body masses, for the centre of mass.
    let bodyMass: [Double]
    let totalMass: Double

    init(model: MuJoCoModel, options: EnvironmentOptions) throws {
        try Self.checkModel(model, nq: 24, nv: 23)
        guard model.nbody == nbody, model.ntendon == ntendon else {
            throw EnvironmentError.invalidOption(
                task: Self.spec.id, option: "model",
                reason: "nbody/ntendon are \(model.nbody)/\(model.ntendon), expected \(nbody)/\(ntendon)")
        }
        forwardWeight = options.forwardRewardWeight ?? 1.25
        ctrlWeight = options.ctrlCostWeight ?? 0.1
        contactWeight = options.contactCostWeight ?? 5e-7
        healthyReward = options.healthyReward ?? 5
        terminateWhenUnhealthy = options.terminateWhenUnhealthy ?? true
        blocks = Blocks(options: options)
        let qpos0 = model.qpos0
        initialXY = SIMD2(qpos0[0], qpos0[1])
        bodyMass = model.bodyMass
        totalMass = bodyMass.reduce(0, +)
    }

    func addResetNoise(
        qpos: UnsafeMutableBufferPointer<Double>, qvel: UnsafeMutableBufferPointer<Double>, scale: Double,
        random: inout CounterStream
    ) {
        addUniformNoise(qpos: qpos, qvel: qvel, scale: scale, random: &random)
    }

    /// The (x, y) of the centre of mass `Σ m_b xipos_b / Σ m_b`.
    func trackedPosition(_ d: UnsafeMutablePointer<mjData>) -> SIMD2<Double> {
        let xipos = d.pointee.xipos!
        var sum = SIMD2<Double>(0, 0)
        bodyMass.withUnsafeBufferPointer { mass in
            for b in 0..<nbody {
                sum.x += mass[b] * xipos[3 * b]
                sum.y += mass[b] * xipos[3 * b + 1]
            }
        }
        return sum / totalMass
    }

    func writeObservation(_ d: UnsafeMutablePointer<mjData>, into out: UnsafeMutablePointer<Double>) {
        var o = 0
        func copy(_ source: UnsafeMutablePointer<Double>, from start: Int, count: Int) {
            (out + o).update(from: source + start, count: count)
            o += count
        }
        copy(d.pointee.qpos, from: 2, count: 22)
        copy(d.pointee.qvel, from: 0, count: 23)
        if blocks.cinert { copy(d.pointee.cinert, from: 10, count: 10 * (nbody - 1)) }
        if blocks.cvel { copy(d.pointee.cvel, from: 6, count: 6 * (nbody - 1)) }
        if blocks.qfrcActuator { copy(d.pointee.qfrc_actuator, from: 6, count: 17) }
        if blocks.cfrcExt { copy(d.pointee.cfrc_ext, from: 6, count: 6 * (nbody - 1)) }
    }

    func evaluate(
        _ d: UnsafeMutablePointer<mjData>, action: UnsafeBufferPointer<Double>, before: SIMD2<Double>,
        after: SIMD2<Double>, dt: Double
    ) -> StepTerms {
        var t = StepTerms()
        let z = d.pointee.qpos[2]
        let healthy = 1.0 < z && z < 2.0
        let velocity = (after - before) / dt
        t.xVelocity = velocity.x
        t.yVelocity = velocity.y
        t.forward = forwardWeight * t.xVelocity
        t.survive = healthy ? healthyReward : 0
        t.ctrlCost = ctrlWeight * sumOfSquares(d.pointee.ctrl, count: 17)
        t.contactCost = min(contactWeight * sumOfSquares(d.pointee.cfrc_ext, count: 6 * nbody), 10)
        t.reward = (t.forward + t.survive) - (t.ctrlCost + t.contactCost)
        t.terminated = !healthy && terminateWhenUnhealthy
        return t
    }

    func positionInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] {
        let x = d.pointee.qpos[0], y = d.pointee.qpos[1]
        let dx = x - initialXY.x, dy = y - initialXY.y
        var info = ["x_position": x, "y_position": y, "distance_from_origin": (dx * dx + dy * dy).squareRoot()]
        for i in 0..<ntendon {
            info["tendon_length[\(i)]"] = d.pointee.ten_length[i]
            info["tendon_velocity[\(i)]"] = d.pointee.ten_velocity[i]
        }
        return info
    }

    func stepInfo(_ d: UnsafeMutablePointer<mjData>, terms: StepTerms) -> [String: Double] {
        var info = positionInfo(d)
        info["x_velocity"] = terms.xVelocity
        info["y_velocity"] = terms.yVelocity
        info["reward_survive"] = terms.survive
        info["reward_forward"] = terms.forward
        info["reward_ctrl"] = -terms.ctrlCost
        info["reward_contact"] = -terms.contactCost
        return info
    }

    func resetInfo(_ d: UnsafeMutablePointer<mjData>) -> [String: Double] { positionInfo(d) }
}
