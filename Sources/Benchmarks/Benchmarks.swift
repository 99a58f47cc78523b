import Dispatch
import Foundation

/// Measurements behind `satr bench network|env|search|train`: each benchmark is a `run` function
/// that takes its settings and returns a `Codable` result (the `--json` output, encoded with
/// `JSONCoding`), or throws. A benchmark reports a measurement or an error, never a stand-in
/// constant: every rate and ratio it returns is checked to be finite and positive.
public enum Benchmarks {}

/// A benchmark that could not measure what it reports.
public struct BenchmarkError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Monotonic time for the benchmarks.
enum BenchmarkClock {
    /// Nanoseconds since an arbitrary start.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Seconds between two `now()` readings.
    static func seconds(from start: UInt64, to end: UInt64) -> Double { Double(end - start) / 1e9 }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// Throws unless every value is finite and positive (a rate or ratio that is zero, infinite or
/// NaN means nothing was measured).
func requireMeasured(_ values: KeyValuePairs<String, Double>, in benchmark: String) throws {
    for (name, value) in values where !(value.isFinite && value > 0) {
        throw BenchmarkError("\(benchmark): \(name) = \(value) is not a measurement (nothing was timed); run it longer")
    }
}
