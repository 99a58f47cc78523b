/// An episode-horizon schedule for the training rollouts: short episodes first, the task's own
/// limit later.
///
/// The training episodes of a generation are cut (truncated, as at the task's time limit) after
///
///     H(E) = min(T, H_0 + floor((T - H_0) * E / G))
///
/// steps, where E is the number of member env steps of all earlier generations, T the task's
/// limit (1000 for the MuJoCo tasks), H_0 = `start` and G = `growthSteps`: the horizon grows
/// linearly in env steps from H_0 to T, which it reaches once E >= G. E is exact and identical on
/// every thread and process (and restored by a resume), so the schedule keeps runs reproducible.
/// Evaluations of the deterministic network always run to the task's own limit.
public struct HorizonSchedule: Sendable, Equatable {
    /// H_0, the horizon of the first generation (>= 1).
    public var start: Int
    /// G, the env steps after which the horizon is the task's own (>= 1).
    public var growthSteps: Int

    public init(start: Int, growthSteps: Int) {
        precondition(start >= 1 && growthSteps >= 1, "a horizon schedule needs start >= 1 and growth steps >= 1")
        self.start = start
        self.growthSteps = growthSteps
    }

    /// H(E) for a task whose episodes end at `limit` steps (at least 1 and at most `limit`).
    public func horizon(afterEnvSteps envSteps: Int, limit: Int) -> Int {
        guard start < limit else { return limit }
        return linearRamp(from: start, to: limit, over: growthSteps, after: envSteps)
    }
}

/// `a + floor((b - a) * min(E, G) / G)` for E >= 0 (truncated toward a when b < a): the value of
/// a schedule that moves linearly in env steps from `a` to `b` over G steps and stays at `b`.
/// Monotone in E, exact in integers, and the same on every thread and process. |b - a| * G stays
/// below 2^63 for every schedule the configs allow (|b - a| <= 2^20, G <= 1e12).
func linearRamp(from a: Int, to b: Int, over growthSteps: Int, after envSteps: Int) -> Int {
    let e = min(max(envSteps, 0), growthSteps)
    return a + (b - a) * e / growthSteps
}
