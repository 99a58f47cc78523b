/// A population schedule for the search: the members per generation move linearly in env steps
/// from a start value to the run's population.
///
/// The generation that starts after E member env steps of all earlier generations has
///
///     M(E) = q * floor(M_lin(E) / q),   M_lin(E) = M_0 + floor((M - M_0) * min(E, G) / G)
///
/// members, where M_0 = `start`, M = `final` (the config's `population`), G = `growthSteps`, and
/// q = 2 when the members come in mirrored pairs (q = 1 otherwise). M_0 may lie below M (a small
/// population early: more generations per env step while any direction helps, then a larger one
/// for a finer gradient estimate) or above it. E is exact and identical on every thread and
/// process and is restored by a resume, so the schedule keeps runs reproducible. Evaluations of
/// the deterministic network do not depend on M.
public struct PopulationSchedule: Sendable, Equatable {
    /// M_0, the population of the first generation (>= 2).
    public var start: Int
    /// M, the population once E >= G.
    public var final: Int
    /// G, the env steps over which the population moves from M_0 to M (>= 1).
    public var growthSteps: Int
    /// q: populations are multiples of 2 when members come in mirrored pairs.
    public var pairs: Bool

    public init(start: Int, final: Int, growthSteps: Int, pairs: Bool) {
        precondition(start >= 2 && final >= 2 && growthSteps >= 1, "a population schedule needs populations >= 2 and growth steps >= 1")
        precondition(!pairs || (start % 2 == 0 && final % 2 == 0), "mirrored pairs need even populations")
        self.start = start
        self.final = final
        self.growthSteps = growthSteps
        self.pairs = pairs
    }

    /// M(E): between M_0 and M (both included), even when `pairs`.
    public func population(afterEnvSteps envSteps: Int) -> Int {
        let m = linearRamp(from: start, to: final, over: growthSteps, after: envSteps)
        return pairs ? m - m % 2 : m
    }

    /// The largest population of the schedule, max(M_0, M).
    public var largest: Int { max(start, final) }
}

/// `a + floor((b - a) * min(E, G) / G)` for E >= 0 (truncated toward a when b < a): the value of
/// a schedule that moves linearly in env steps from `a` to `b` over G steps and stays at `b`.
/// Monotone in E, exact in integers, and the same on every thread and process. |b - a| * G stays
/// below 2^63 for every schedule the configs allow (|b - a| <= 2^20, G <= 1e12).
func linearRamp(from a: Int, to b: Int, over growthSteps: Int, after envSteps: Int) -> Int {
    let e = min(max(envSteps, 0), growthSteps)
    return a + (b - a) * e / growthSteps
}
