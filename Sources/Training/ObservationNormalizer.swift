/// Observation statistics of one batch of observations: count, mean and sum of squared deviations
/// (M2), per observation component, accumulated in Float64 by Welford's update.
///
/// One `ObservationStatistics` is collected per population member (over every observation the
/// member's episodes visited, the reset observation included). The shared normalizer merges them
/// in member order, so the merged result depends only on the members, never on which thread or
/// process evaluated them.
///
/// Reference: B. P. Welford, "Note on a method for calculating corrected sums of squares and
/// products", Technometrics 4 (1962); T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae
/// and a pairwise algorithm for computing sample variances" (1979) for the merge.
public struct ObservationStatistics: Codable, Sendable, Equatable {
    /// Number of observations.
    public var count: Int
    /// Per-component mean.
    public var mean: [Double]
    /// Per-component sum of squared deviations from the mean.
    public var m2: [Double]

    /// Empty statistics for observations of `size` components.
    public init(size: Int) {
        count = 0
        mean = [Double](repeating: 0, count: size)
        m2 = [Double](repeating: 0, count: size)
    }

    public init(count: Int, mean: [Double], m2: [Double]) {
        precondition(mean.count == m2.count)
        self.count = count
        self.mean = mean
        self.m2 = m2
    }

    /// Observation size.
    public var size: Int { mean.count }

    /// Adds one observation (Welford): `n += 1; delta = x - mean; mean += delta / n;
    /// m2 += delta * (x - mean)`.
    ///
    /// Precondition: `observation.count == size`. Non-finite observations must not be passed
    /// (the evaluator drops them; see `PopulationEvaluator`).
    @inlinable
    public mutating func add(_ observation: UnsafeBufferPointer<Double>) {
        count += 1
        let n = Double(count)
        mean.withUnsafeMutableBufferPointer { mu in
            m2.withUnsafeMutableBufferPointer { s in
                for i in 0..<mu.count {
                    let x = observation[i]
                    let delta = x - mu[i]
                    mu[i] += delta / n
                    s[i] += delta * (x - mu[i])
                }
            }
        }
    }

    /// Adds one observation given as an array.
    public mutating func add(_ observation: [Double]) {
        precondition(observation.count == size, "observation size \(observation.count) != \(size)")
        observation.withUnsafeBufferPointer { add($0) }
    }

    /// Merges `other` into `self` (Chan et al.):
    /// `n = na + nb; delta = mean_b - mean_a; mean = mean_a + delta * nb / n;
    /// m2 = m2_a + m2_b + delta^2 * na * nb / n`.
    ///
    /// The result depends on the order of merges; callers merge in member order.
    public mutating func merge(_ other: ObservationStatistics) {
        precondition(other.size == size, "statistics of different observation sizes")
        if other.count == 0 { return }
        if count == 0 {
            self = other
            return
        }
        let na = Double(count), nb = Double(other.count)
        let n = na + nb
        for i in 0..<size {
            let delta = other.mean[i] - mean[i]
            mean[i] += delta * (nb / n)
            m2[i] += other.m2[i] + delta * delta * (na * nb / n)
        }
        count += other.count
    }

    /// Population variance `m2 / count` per component (0 when empty).
    public var variance: [Double] {
        count == 0 ? [Double](repeating: 0, count: size) : m2.map { $0 / Double(count) }
    }
}

/// The running observation normalizer shared by the whole population (docs/SEARCH.md, "Evaluating a
/// member"): `x_norm = (x - mean) / max(std, 1e-6)`.
///
/// The statistics are frozen during a generation (the members see `frozen()`), then updated from
/// the members' statistics merged in member order. Before any observation the normalizer is the
/// identity (mean 0, std 1).
public struct ObservationNormalizer: Codable, Sendable, Equatable {
    /// The floor of the standard deviation.
    public static let stdFloor = 1e-6

    /// Everything observed so far.
    public private(set) var statistics: ObservationStatistics

    public init(size: Int) {
        statistics = ObservationStatistics(size: size)
    }

    public init(statistics: ObservationStatistics) {
        self.statistics = statistics
    }

    public var size: Int { statistics.size }

    /// Merges the per-member statistics of one generation, in the order given (member order).
    public mutating func update(withMembers members: [ObservationStatistics]) {
        for m in members { statistics.merge(m) }
    }

    /// Per-component mean used for normalization (0 before any observation).
    public var mean: [Double] { statistics.mean }

    /// Per-component standard deviation used for normalization: `max(sqrt(m2 / n), 1e-6)`, or 1
    /// before any observation.
    public var standardDeviation: [Double] {
        guard statistics.count > 0 else { return [Double](repeating: 1, count: size) }
        return statistics.variance.map { max($0.squareRoot(), Self.stdFloor) }
    }

    /// The frozen normalization for one generation.
    public func frozen() -> FrozenNormalization {
        FrozenNormalization(mean: mean, standardDeviation: standardDeviation)
    }
}

/// A fixed affine normalization `x_norm[i] = Float((x[i] - mean[i]) / std[i])`, computed in Float64
/// and rounded once to Float32 (the network's input precision).
public struct FrozenNormalization: Codable, Sendable, Equatable {
    public var mean: [Double]
    public var standardDeviation: [Double]

    public init(mean: [Double], standardDeviation: [Double]) {
        precondition(mean.count == standardDeviation.count)
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The identity normalization of `size` components.
    public static func identity(size: Int) -> FrozenNormalization {
        FrozenNormalization(mean: .init(repeating: 0, count: size), standardDeviation: .init(repeating: 1, count: size))
    }

    public var size: Int { mean.count }

    /// Writes the normalized observation into `output`.
    @inlinable
    public func apply(_ observation: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Float>) {
        mean.withUnsafeBufferPointer { mu in
            standardDeviation.withUnsafeBufferPointer { sd in
                for i in 0..<mu.count {
                    output[i] = Float((observation[i] - mu[i]) / sd[i])
                }
            }
        }
    }

    /// The normalized observation as a new array.
    public func apply(_ observation: [Double]) -> [Float] {
        var out = [Float](repeating: 0, count: size)
        observation.withUnsafeBufferPointer { o in
            out.withUnsafeMutableBufferPointer { apply(o, into: $0) }
        }
        return out
    }
}
