import Randomness

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The constants of the recurrent spiking network (docs/NETWORK.md, "Constants and their Float32
/// values"), in one place.
///
/// Times are in milliseconds. Every Float32 constant is the Float64 formula rounded once to
/// Float32. `1 - alpha` is not a constant here: the kernels compute it in Float32 from the rounded
/// alpha (0x3D47C3A0 for alpha_m, not Float32(1 - exp(-0.05)) = 0x3D47C3A8; docs/NETWORK.md).
public enum NetworkConstants {
    /// dt = 0.5 ms, the integration substep.
    public static let dt: Float = 0.5
    /// Simulated time per environment step, 16.6 ms.
    public static let simulatedTimePerEnvStep: Double = 16.6
    /// T = round(16.6 / 0.5) = 33 substeps per environment step.
    public static let substepsPerEnvStep = 33
    /// tau_syn = 5 ms.
    public static let tauSynapse: Double = 5
    /// tau_m = 10 ms.
    public static let tauMembrane: Double = 10
    /// tau_out = 10 ms.
    public static let tauOut: Double = 10
    /// alpha_syn = exp(-dt / tau_syn) = exp(-0.1) = 0.904837418.
    public static let alphaSynapse = Float(exp(-0.5 / 5.0))
    /// alpha_m = exp(-dt / tau_m) = exp(-0.05) = 0.951229425.
    public static let alphaMembrane = Float(exp(-0.5 / 10.0))
    /// alpha_out = exp(-dt / tau_out) = exp(-0.05) = 0.951229425.
    public static let alphaOut = Float(exp(-0.5 / 10.0))
    /// V_th = 1: a neuron fires when v > V_th (strict).
    public static let thresholdVoltage: Float = 1
    /// V_r = 0: the reset (and resting) potential.
    public static let resetVoltage: Float = 0
    /// s = 0.5: the expected connection density, used only in the scales.
    public static let expectedDensity: Double = 0.5
    /// The share of excitatory neurons: N_E = round(N * 0.5).
    public static let excitatoryFraction: Double = 0.5
    /// K_in_gain = 0.1.
    public static let inputGain: Double = 0.1
    /// K_h_gain = 1.
    public static let recurrentGain: Double = 1
    /// K_out_gain = 5.
    public static let readoutGain: Double = 5
    /// The deterministic network keeps connection p when rho_p > 0.5.
    public static let deterministicThreshold: Double = 0.5

    /// R_in = K_in_gain * V_th * tau_m * sqrt(2 / (s * D)) = 2 / sqrt(D) (D is the raw observation
    /// size, not 2D).
    public static func inputScale(observationSize d: Int) -> Float {
        Float(inputGain * Double(thresholdVoltage) * tauMembrane * (2.0 / (expectedDensity * Double(d))).squareRoot())
    }

    /// R_h = K_h_gain * V_th * (tau_m / tau_syn) * sqrt(2 / (s * N)) (= 0.25 for N = 256).
    public static func recurrentScale(neurons n: Int) -> Float {
        Float(recurrentGain * Double(thresholdVoltage) * (tauMembrane / tauSynapse)
              * (2.0 / (expectedDensity * Double(n))).squareRoot())
    }

    /// R_out = K_out_gain * sqrt(1 / (s * N)) (= 5 / sqrt(128) = 0.441941738 for N = 256).
    public static func readoutScale(neurons n: Int) -> Float {
        Float(readoutGain * (1.0 / (expectedDensity * Double(n))).squareRoot())
    }

    /// The readout's summation order: `y[a] = R_out * (s_0 + s_1 + ... + s_15)` added left to
    /// right, with `s_l = sum_b r[16 b + l] * K_out[16 b + l, a]` over b = 0 ..< N/16 in order
    /// (N is a multiple of 64). Sixteen independent sums vectorize; one sum over j would be a
    /// chain of N dependent additions. Every implementation uses this order, so all agree bit
    /// for bit.
    public static let readoutLanes = 16

    /// The flush of a state value: `x`, or +0 where `|x| < 2^-126` (the smallest normal Float32),
    /// applied to i_in after it is computed and to i_syn, v and r after every substep update
    /// (i_syn before v uses it).
    ///
    /// Without it, silent neurons decay into subnormal numbers and stay there (for example
    /// `alpha_out * k * 2^-149` rounds back to `k * 2^-149` for k <= 9), and every later substep
    /// does subnormal arithmetic, which x86 CPUs run through a microcode assist about 100 times
    /// slower than normal arithmetic (the bitset kernel ran 1.3x slower without it:
    /// `satr bench network --task hopper --members 1`, 52k vs 69k env steps/s). The
    /// flush is plain IEEE arithmetic (a compare and a select), so every implementation and every
    /// CPU computes the same bits; it changes no value of magnitude 2^-126 or more, and so no spike
    /// that does not sit within 2^-126 of the threshold.
    @inlinable @inline(__always)
    public static func flushSubnormal(_ x: Float) -> Float {
        // |x| < 2^-126 exactly when the exponent field is zero (subnormals and +-0); one bit test
        // per lane when vectorized.
        x.bitPattern & 0x7F80_0000 == 0 ? 0 : x
    }

    /// Writes the initial membrane potentials of one member:
    /// `v_n = V_r + (V_th - V_r) * stream.nextUniformFloat()` for n = 0 ..< buffer.count in order,
    /// with `stream = CounterStream(seed:generation:member:purpose: .networkInitialState)`.
    ///
    /// Postconditions: every value is in [V_r, V_th).
    public static func writeInitialMembrane(
        into buffer: UnsafeMutableBufferPointer<Float>, seed: UInt64, generation: Int, member: Int
    ) {
        var stream = CounterStream(seed: seed, generation: generation, member: member, purpose: .networkInitialState)
        for n in buffer.indices {
            buffer[n] = resetVoltage + (thresholdVoltage - resetVoltage) * stream.nextUniformFloat()
        }
    }
}
