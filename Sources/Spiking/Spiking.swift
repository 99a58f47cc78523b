/// The bit-connectivity recurrent spiking network (see docs and RSNN.md).
public enum Spiking {}

extension Spiking {
    /// How the kernels were compiled (set by `kernelSettings` in Package.swift through `-D`
    /// conditions), for benchmark reports.
    public static var codegenDescription: String {
        #if SATR_NATIVE_CPU
        return "x86_64, -target-cpu native (SATR_NATIVE_CPU=1)"
        #elseif SATR_X86_64_V2
        return "x86_64, -target-cpu x86-64-v2 (hardware POPCNT)"
        #elseif arch(x86_64)
        return "x86_64 baseline (no POPCNT instruction)"
        #elseif arch(arm64)
        return "arm64 (CNT instruction)"
        #else
        return "default target"
        #endif
    }
}
