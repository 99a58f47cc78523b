/// The bit-connectivity recurrent spiking network (docs/NETWORK.md).
public enum Spiking {}

extension Spiking {
    /// How the kernels were compiled (set by `kernelSettings` in Package.swift through `-D`
    /// conditions), for benchmark reports.
    public static var codegenDescription: String {
        #if SATR_NATIVE_CPU
        return "x86_64, -march=native (the default on x86_64 build hosts)"
        #elseif SATR_POPCNT
        return "x86_64 baseline + POPCNT (-mpopcnt, SATR_POPCNT_CPU=1)"
        #elseif arch(x86_64)
        return "x86_64 baseline, no POPCNT (SATR_PORTABLE_CPU=1 or flags not applied)"
        #elseif arch(arm64)
        return "arm64 (CNT instruction)"
        #else
        return "default target"
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
