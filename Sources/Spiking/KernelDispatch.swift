import CKernels

/// The instruction-set level of the hot kernels (`Sources/CKernels`): one binary carries the
/// kernels for every level of its architecture and runs the best one the CPU supports, chosen at
/// the first kernel call from CPUID (docs/PERFORMANCE.md, "Runtime dispatch").
///
/// `SATR_KERNEL=baseline|popcnt|avx2|avx512` forces a level; a level the CPU lacks stops the process
/// with a message (never a silent fallback). Results are bit-identical on every level.
public enum KernelLevel: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// x86-64 baseline (SSE2), or the default CPU of another architecture (arm64: NEON, CNT).
    case baseline = 0
    /// POPCNT + SSE4.2 (x86-64-v2).
    case popcnt = 1
    /// AVX2 + POPCNT (+ BMI1/2, LZCNT; x86-64-v3).
    case avx2 = 2
    /// AVX-512 F/BW/VL/DQ/CD + VPOPCNTDQ, 512-bit vectors.
    case avx512 = 3

    /// "baseline", "popcnt", "avx2", "avx512" (the `SATR_KERNEL` values).
    public var description: String { String(cString: satr_kernel_level_name(Int32(rawValue))) }

    /// True when this CPU (and OS) can run the level.
    public var isSupported: Bool { satr_kernel_level_supported(Int32(rawValue)) != 0 }

    /// Every level this CPU supports, lowest first.
    public static var supported: [KernelLevel] { allCases.filter(\.isSupported) }

    /// The best level this CPU supports.
    public static var best: KernelLevel { KernelLevel(rawValue: Int(satr_kernel_best_level())) ?? .baseline }

    /// The level the kernels run (chosen at the first call: `SATR_KERNEL`, else `best`).
    public static var active: KernelLevel { KernelLevel(rawValue: Int(satr_kernel_active_level())) ?? .baseline }

    /// Makes `level` the active level in this process (tests that run every path); false, and no
    /// change, when the CPU lacks it. Do not call while kernels run on other threads.
    @discardableResult
    public static func select(_ level: KernelLevel) -> Bool { satr_kernel_select(Int32(level.rawValue)) == 0 }

    /// Runs `body` with `level` active, then restores the previous level; nil when the CPU lacks it.
    public static func with<R>(_ level: KernelLevel, _ body: () throws -> R) rethrows -> R? {
        let previous = active
        guard select(level) else { return nil }
        defer { select(previous) }
        return try body()
    }

    /// Runs `body` once with each level this CPU supports made active (`with(_:_:)`), in the order
    /// of `supported`, then restores the level: how the tests hold every path to its reference.
    public static func withEachSupported(_ body: (KernelLevel) throws -> Void) rethrows {
        for level in supported { _ = try with(level) { try body(level) } }
    }

    /// The CPU features the dispatcher checks that this CPU has (e.g. "popcnt avx2 ... avx512vpopcntdq").
    public static var cpuFeatures: String { String(cString: satr_cpu_features()) }
}
