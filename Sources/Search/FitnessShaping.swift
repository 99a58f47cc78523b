/// Fitness shaping: centered ranks and their standardized variant (docs/SEARCH.md, "Fitness shaping").
///
/// Rank rule: 0-based ranks in increasing fitness; a non-finite fitness (NaN or +-infinity) ranks
/// below every finite one; ties (equal fitness, or two non-finite ones) are broken by member index,
/// the lower index taking the lower rank. The ranks are therefore always a permutation of
/// `0..<M`.
public enum FitnessShaping {
    /// The 0-based rank of every member under the rank rule above.
    ///
    /// Postconditions: a permutation of `0..<fitnesses.count`.
    public static func ranks(_ fitnesses: [Double]) -> [Int] {
        let order = fitnesses.indices.sorted { a, b in
            let fa = fitnesses[a], fb = fitnesses[b]
            let finiteA = fa.isFinite, finiteB = fb.isFinite
            if finiteA != finiteB { return finiteB }  // the non-finite one is lower
            if finiteA && fa != fb { return fa < fb }
            return a < b
        }
        var ranks = [Int](repeating: 0, count: fitnesses.count)
        for (rank, member) in order.enumerated() { ranks[member] = rank }
        return ranks
    }

    /// The integer rank weights `a_k = 2 rank_k - (M - 1) = 2 (M - 1) u_k`, in `[-(M-1), M-1]`.
    ///
    /// Every shaped quantity of the bit optimizers is an integer multiple of these, which is what
    /// makes their gradient statistics exact (see `BitStatistics`).
    public static func integerWeights(_ fitnesses: [Double]) -> [Int64] {
        let m = Int64(fitnesses.count)
        return ranks(fitnesses).map { 2 * Int64($0) - (m - 1) }
    }

    /// Centered ranks `u_k = rank_k / (M - 1) - 0.5`, in `[-0.5, 0.5]`, summing to zero.
    ///
    /// Edge cases: a population of one gets `u = [0]`.
    public static func centeredRanks(_ fitnesses: [Double]) -> [Double] {
        let m = fitnesses.count
        if m <= 1 { return [Double](repeating: 0, count: m) }
        return ranks(fitnesses).map { Double($0) / Double(m - 1) - 0.5 }
    }

    /// Standardized centered ranks `z_k = u_k / std(u)`, `std(u) = sqrt((1/M) sum_k u_k^2)`
    /// (u has mean zero), so `(1/M) sum z_k^2 = 1`.
    ///
    /// Edge cases: a population of one gets `z = [0]`.
    public static func standardizedRanks(_ fitnesses: [Double]) -> [Double] {
        let u = centeredRanks(fitnesses)
        let meanSquare = u.reduce(0) { $0 + $1 * $1 } / Double(Swift.max(u.count, 1))
        if meanSquare == 0 { return u }
        let scale = 1 / meanSquare.squareRoot()
        return u.map { $0 * scale }
    }
}
