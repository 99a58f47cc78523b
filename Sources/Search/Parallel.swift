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

    /// `sum_{i < count} term(i)` in a fixed association: the indices form blocks of `block`
    /// (the last may be shorter), `blockSum` returns one block's sum in index order, and the
    /// block sums are added in block order. The blocks run concurrently, but the result is the
    /// same for any number of threads (and, for `count <= block`, the plain sequential sum).
    static func orderedSum(count: Int, block: Int = 8192, _ blockSum: @Sendable (Range<Int>) -> Double) -> Double {
        let blocks = (count + block - 1) / block
        if blocks <= 1 { return blockSum(0..<count) }
        let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: blocks)
        defer { partial.deallocate() }
        let out = SendablePointer(partial.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            out.pointer[b] = blockSum((b * block) ..< Swift.min((b + 1) * block, count))
        }
        var total = 0.0
        for b in 0..<blocks { total += partial[b] }
        return total
    }

    /// Runs `body(part, parts)` for part in 0 ..< parts (parts = max(count, 1)) on concurrent
    /// threads, inline when there is one part.
    static func forEach(count: Int, _ body: @Sendable (_ part: Int, _ parts: Int) -> Void) {
        let parts = Swift.max(count, 1)
        if parts == 1 { body(0, 1); return }
        DispatchQueue.concurrentPerform(iterations: parts) { body($0, parts) }
    }
}

/// A raw pointer handed to worker threads that write disjoint parts of it.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
