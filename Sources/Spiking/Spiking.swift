/// The bit-connectivity recurrent spiking network (docs/NETWORK.md).
public enum Spiking {}

extension Spiking {
    /// Which kernels run, for benchmark reports and `satr info`: the architecture and the dispatch
    /// level (`KernelLevel.active`), e.g. "x86_64, runtime dispatch: avx512 (best avx512)".
    public static var codegenDescription: String {
        "\(architecture), runtime dispatch: \(KernelLevel.active) (best \(KernelLevel.best))"
    }

    /// The architecture this binary was built for: "x86_64", "arm64" or "other".
    public static var architecture: String {
        #if arch(x86_64)
        "x86_64"
        #elseif arch(arm64)
        "arm64"
        #else
        "other"
        #endif
    }
}

extension Spiking {
    /// The action of a network output (docs/NETWORK.md, "One environment step", step 4):
    /// `action[a] = scale * clip(y[a], -1, 1)`,
    /// where `scale` maps [-1, 1] onto a symmetric action box (1 for [-1, 1]; 0.4 for Humanoid-v5's
    /// [-0.4, 0.4]).
    ///
    /// Edge Cases: a NaN output gives a NaN action (the environment rejects non-finite actions).
    public static func action(
        fromOutput y: UnsafeBufferPointer<Float>, scale: Float, into action: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(y.count == action.count, "output and action lengths differ (\(y.count) vs \(action.count))")
        for a in y.indices {
            let value = y[a]
            action[a] = scale * (value.isNaN ? value : min(max(value, -1), 1))
        }
    }

    /// `scale * clip(y, -1, 1)` lane by lane (see `action(fromOutput:scale:into:)`).
    public static func action(fromOutput y: [Float], scale: Float = 1) -> [Float] {
        var result = [Float](repeating: 0, count: y.count)
        y.withUnsafeBufferPointer { yb in
            result.withUnsafeMutableBufferPointer { action(fromOutput: yb, scale: scale, into: $0) }
        }
        return result
    }
}
