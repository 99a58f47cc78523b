// The hot kernels of SATR in C, compiled for several x86-64 levels in one binary and chosen at
// start from CPUID (docs/PERFORMANCE.md, "Runtime dispatch").
//
// Swift has no per-function target attributes, so a Swift function is compiled for one CPU only.
// Here each kernel body (kernel_body.h) is compiled once per level under
// `#pragma clang attribute push(__attribute__((target(...))))`: no compiler flag is needed, so
// the package has no `unsafeFlags` and a plain `swift build -c release` binary runs on any x86-64
// CPU at the speed of its best level. On other architectures there is one level, "baseline",
// compiled for the target's default CPU (arm64 has its vector popcount in the base ISA).
//
// Floating point: the file is compiled without -ffast-math and with `#pragma STDC FP_CONTRACT OFF`,
// so every float operation is the IEEE operation the Swift reference performs, in the same order,
// nothing fused; the integer parts (popcounts, statistics sums, Philox) are exact on every level.
// Results are bit-identical across levels (the tests run on every level the CPU has).
#ifndef SATR_CKERNELS_H
#define SATR_CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The kernel levels. Higher is faster; a level runs only on a CPU that has its features.
typedef enum {
    /// x86-64 baseline (SSE2), or the target's default CPU on other architectures.
    SATR_KERNEL_BASELINE = 0,
    /// POPCNT + SSE4.2 (x86-64-v2: every x86-64 CPU since Intel Nehalem / AMD Bulldozer, 2008-2011,
    /// including the AVX-less Atom, Celeron and Pentium parts).
    SATR_KERNEL_POPCNT = 1,
    /// AVX2 + POPCNT (+ BMI1/2, LZCNT): x86-64-v3 class CPUs (Intel Haswell, AMD Zen and later).
    SATR_KERNEL_AVX2 = 2,
    /// AVX-512 F/BW/VL/DQ/CD + VPOPCNTDQ, 512-bit vectors (Intel Ice Lake and later servers, AMD Zen 4+).
    SATR_KERNEL_AVX512 = 3,
} satr_kernel_level;

enum { SATR_KERNEL_LEVEL_COUNT = 4 };

/// The level's name: "baseline", "popcnt", "avx2", "avx512".
const char *satr_kernel_level_name(int level);

/// 1 when this CPU (and the operating system, for the AVX register state) supports `level`.
int satr_kernel_level_supported(int level);

/// The best level this CPU supports.
int satr_kernel_best_level(void);

/// The level the kernels run now. The first call (or the first kernel call) chooses it: the level
/// `SATR_KERNEL` names (baseline, popcnt, avx2, avx512) when set, else the best supported one. A named
/// level the CPU lacks, or an unknown name, stops the process with a message on stderr (exit 78):
/// forcing a path must never silently run another one.
int satr_kernel_active_level(void);

/// Makes `level` the active level (in-process, e.g. for tests that run every path); returns 0, or
/// -1 (and changes nothing) when the CPU lacks it. Not meant to race with running kernels.
int satr_kernel_select(int level);

/// The CPU features the dispatcher looked at, as a space-separated list ("popcnt avx2 ...").
const char *satr_cpu_features(void);

// MARK: - The bitset network (Sources/Spiking/BitsetKernel.swift)

/// The shape and constants of one network kernel. The float constants are computed by the Swift
/// side (NetworkConstants), so C never re-derives a rounding.
typedef struct {
    int64_t neurons;                 // N, a multiple of 64
    int64_t observation_size;        // D
    int64_t action_size;             // A
    int64_t words_per_row;           // W = N / 64
    int64_t recurrent_word_offset;   // first word of K_h (word-major: word w of column j at + w N + j)
    int64_t readout_word_offset;     // first word of K_out (A rows of W words)
    int64_t substeps;                // T
    const uint64_t *excitatory_mask; // W words: bit i of word k set when neuron 64k + i is excitatory
    const float *rate_increment;     // N floats: (1 - alpha_out) * sign_j / dt
    float input_scale;               // R_in
    float recurrent_scale;           // R_h
    float readout_scale;             // R_out
    float alpha_synapse;
    float alpha_membrane;
    float one_minus_alpha_membrane;
    float alpha_out;
    float threshold_voltage;
    float reset_voltage;
    float zero_increment;            // (1 - alpha_out) * 0 / dt
} satr_network_params;

/// Pointers to one member's state (N floats each, W spike words).
typedef struct {
    float *membrane;
    float *synaptic_current;
    float *rate_trace;
    float *input_current;
    uint64_t *spike_words;
} satr_network_state;

/// Scratch space for one env step: counts (N int32), the popcount groups (2W groups of up to 4
/// words: group_words and group_masks 8W each, group_sizes and group_unions 2W each), the fired
/// flags (N bytes), the readout's 16 partial sums.
typedef struct {
    int32_t *counts;
    int64_t *group_words;
    uint64_t *group_masks;
    int64_t *group_sizes;
    uint64_t *group_unions;
    uint8_t *fired;
    float *partial_sums;
} satr_network_scratch;

/// One environment step of one member (input current, T substeps, readout); writes y (A values)
/// and, when `record` is not NULL, the spike words after each substep (T x W words). Returns the
/// number of spikes in the step.
int64_t satr_network_env_step(
    const satr_network_params *params, const uint64_t *connectivity, const int8_t *input_signs,
    satr_network_state state, satr_network_scratch scratch, const float *observation, float *output,
    uint64_t *record);

// MARK: - DenseSNN (Sources/Spiking/DenseSNN.swift), the dense-weight baseline of Gaussian ES

/// out[j] = sum_r coefficient[r] * matrix[r * n + j] for j < n, the rows r < rows summed in order
/// from a zero start (each sum a rounded multiply, then a rounded add; nothing fused).
void satr_vector_times_matrix(const float *coefficient, int64_t rows, const float *matrix, int64_t n, float *out);

// MARK: - Bit statistics (Sources/Search/BitStatistics.swift)

/// One member's contribution to the statistics.
typedef struct {
    int64_t weight;
    int64_t in_first_half;
    const uint64_t *bits;
} satr_member_bits;

/// Adds words [word_begin, word_end) of every member to the per-bit sums (weighted[i] += a,
/// squared[i] += a^2, first_half[i] += a for members of the first half, for every set bit i < d),
/// 16 words at a time over all members. Exact integer sums (wrapping), any level.
void satr_statistics_add_words(
    int64_t word_begin, int64_t word_end, const satr_member_bits *members, int64_t member_count,
    int64_t dimension, int64_t *weighted, int64_t *squared, int64_t *first_half);

// MARK: - Bernoulli sampling (Sources/Search/BernoulliDistribution.swift)

/// Writes the sampled words of one member: bit i = (W_i < t_i), or (W_i >= t_i) when `partner`,
/// where W_i is word i of the member's Philox4x32-10 stream (counter (block, c1, c2, c3), key
/// (k0, k1); 4 words per block, word j of block b is W_{4b+j}) and t_i the 32-bit threshold in the
/// permuted table layout of `BernoulliDistribution` (group g = 32 bits: 8 blocks, threshold of bit
/// 32g + 4l + j at index 32g + 8j + l). `groups` = ceil(d / 32); words = ceil(groups / 2); the
/// padding bits are the caller's to clear.
void satr_bernoulli_sample(
    uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1, const uint32_t *thresholds,
    int64_t groups, int partner, uint64_t *words);

#ifdef __cplusplus
}
#endif

#endif
