/// The bit-connectivity recurrent spiking network (see docs and RSNN.md).
public enum Spiking {}

extension Spiking {
    /// How the kernels were compiled (set by `kernelSettings` in Package.swift through `-D`
    /// conditions), for benchmark reports.
    public static var codegenDescription: String {
        #if SATR_NATIVE_CPU
        return "x86_64, -march=native (SATR_NATIVE_CPU=1)"
        #elseif SATR_POPCNT
        return "x86_64 baseline + POPCNT (-mpopcnt, the default)"
        #elseif arch(x86_64)
        return "x86_64 baseline, no POPCNT (SATR_PORTABLE_CPU=1 or flags not applied)"
        #elseif arch(arm64)
        return "arm64 (CNT instruction)"
        #else
        return "default target"
        #endif
    }
}
