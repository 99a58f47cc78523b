/// What a process group's collectives have cost this process since the last reset.
public struct TrafficStatistics: Sendable, Equatable {
    /// Number of collective operations (a gather of varying sizes counts once, although it makes
    /// two MPI calls: the sizes, then the data).
    public var collectives: Int = 0
    /// Payload bytes this rank contributed (its own buffers).
    public var bytesSent: Int = 0
    /// Payload bytes this rank received as results (every rank's buffers together, its own included).
    public var bytesReceived: Int = 0
    /// Wall-clock seconds spent inside the collectives, including any wait for slower ranks.
    public var seconds: Double = 0

    public init() {}
}

/// Seconds elapsed since `start` on the monotonic clock.
@inline(__always)
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    seconds(ContinuousClock.now - start)
}

/// A duration in seconds.
@inline(__always)
func seconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) + Double(atto) * 1e-18
}
