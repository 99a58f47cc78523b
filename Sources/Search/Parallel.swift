import Dispatch

/// Minimal fork-join helper: runs `body(i)` for `i in 0..<count` on up to `count` threads and
/// returns the results in index order.
enum Parallel {
    private final class Results<T>: @unchecked Sendable {
        var values: [T?]
        init(count: Int) { values = [T?](repeating: nil, count: count) }
    }

    static func map<T>(count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        if count == 1 { return [body(0)] }
        let results = Results<T>(count: count)
        results.values.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: count) { i in
                out[i] = body(i)
            }
        }
        return results.values.map { $0! }
    }
}
