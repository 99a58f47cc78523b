// The kernels for every level, and the choice among them (see include/CKernels.h).
//
// No fused multiply-add and no reassociation: the file is compiled without fast-math (SwiftPM never
// adds it) and contraction is switched off here, before any code, so `a * b + c` stays a rounded
// multiply and a rounded add on every level, as in Swift.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#include "CKernels.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define SATR_X86 1
#include <cpuid.h>
#else
#define SATR_X86 0
#endif

// Clang vector types (for the Philox lanes); on every level they lower to that level's registers.
typedef uint64_t satr_u64x8 __attribute__((ext_vector_type(8)));
typedef uint32_t satr_u32x8 __attribute__((ext_vector_type(8)));
typedef uint32_t satr_u32x16 __attribute__((ext_vector_type(16)));

#define SATR_CONCAT2(a, b) a##_##b
#define SATR_CONCAT(a, b) SATR_CONCAT2(a, b)

// Level 0: the compiler's default target (x86-64 baseline with SSE2; arm64's base ISA).
#define SATR_FN(name) SATR_CONCAT(name, baseline)
#include "kernel_body.h"
#undef SATR_FN

#if SATR_X86
// Level 1: x86-64-v2 (POPCNT, SSE3/SSSE3/SSE4.1/SSE4.2).
#pragma clang attribute push(__attribute__((target("popcnt,sse3,ssse3,sse4.1,sse4.2"))), apply_to = function)
#define SATR_FN(name) SATR_CONCAT(name, popcnt)
#include "kernel_body.h"
#undef SATR_FN
#pragma clang attribute pop

// Level 2: x86-64-v3 (AVX2, POPCNT, BMI1/2, LZCNT, MOVBE, F16C; FMA is left out on purpose,
// though contraction is off anyway).
#pragma clang attribute push(__attribute__((target("popcnt,sse4.2,avx,avx2,bmi,bmi2,lzcnt"))), apply_to = function)
#define SATR_FN(name) SATR_CONCAT(name, avx2)
#include "kernel_body.h"
#undef SATR_FN
#pragma clang attribute pop

// Level 3: AVX-512 with VPOPCNTDQ. min_vector_width(512) lets the vectorizer use 512-bit
// registers (LLVM otherwise prefers 256-bit vectors on some AVX-512 CPUs; this is what
// `-mprefer-vector-width=512` did for the old native build).
#pragma clang attribute push(__attribute__((target("popcnt,sse4.2,avx,avx2,bmi,bmi2,lzcnt,avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx512vpopcntdq"), min_vector_width(512))), apply_to = function)
#define SATR_FN(name) SATR_CONCAT(name, avx512)
#include "kernel_body.h"
#undef SATR_FN
#pragma clang attribute pop
#endif

// MARK: - CPU features

typedef struct {
    int popcnt, sse3, ssse3, sse41, sse42, avx, avx2, bmi1, bmi2, lzcnt, fma, os_avx, os_avx512;
    int avx512f, avx512bw, avx512vl, avx512dq, avx512cd, avx512vpopcntdq;
} satr_cpu;

static satr_cpu satr_detect_cpu(void) {
    satr_cpu c;
    memset(&c, 0, sizeof c);
#if SATR_X86
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
    c.popcnt = (cx >> 23) & 1;
    c.sse3 = cx & 1;
    c.ssse3 = (cx >> 9) & 1;
    c.sse41 = (cx >> 19) & 1;
    c.sse42 = (cx >> 20) & 1;
    c.fma = (cx >> 12) & 1;
    c.avx = (cx >> 28) & 1;
    const int osxsave = (cx >> 27) & 1;
    if (osxsave) {
        // XGETBV (XCR0): the operating system saves the YMM (bits 1, 2) and ZMM (bits 5, 6, 7) state.
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        c.os_avx = (lo & 0x6) == 0x6;
        c.os_avx512 = c.os_avx && (lo & 0xE0) == 0xE0;
    }
    unsigned max = __get_cpuid_max(0, 0);
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        c.bmi1 = (b >> 3) & 1;
        c.avx2 = (b >> 5) & 1;
        c.bmi2 = (b >> 8) & 1;
        c.avx512f = (b >> 16) & 1;
        c.avx512dq = (b >> 17) & 1;
        c.avx512cd = (b >> 28) & 1;
        c.avx512bw = (b >> 30) & 1;
        c.avx512vl = (b >> 31) & 1;
        c.avx512vpopcntdq = (cx >> 14) & 1;
    }
    if (__get_cpuid(0x80000001, &a, &b, &cx, &d)) c.lzcnt = (cx >> 5) & 1;
#endif
    return c;
}

static int satr_supported(const satr_cpu *c, int level) {
    switch (level) {
    case SATR_KERNEL_BASELINE:
        return 1;
#if SATR_X86
    case SATR_KERNEL_POPCNT:
        return c->popcnt && c->sse3 && c->ssse3 && c->sse41 && c->sse42;
    case SATR_KERNEL_AVX2:
        return satr_supported(c, SATR_KERNEL_POPCNT) && c->avx && c->avx2 && c->bmi1 && c->bmi2 && c->lzcnt && c->os_avx;
    case SATR_KERNEL_AVX512:
        return satr_supported(c, SATR_KERNEL_AVX2) && c->os_avx512 && c->avx512f && c->avx512bw && c->avx512vl
            && c->avx512dq && c->avx512cd && c->avx512vpopcntdq;
#endif
    default:
        return 0;
    }
}

static const char *const satr_level_names[SATR_KERNEL_LEVEL_COUNT] = {"baseline", "popcnt", "avx2", "avx512"};

const char *satr_kernel_level_name(int level) {
    return level >= 0 && level < SATR_KERNEL_LEVEL_COUNT ? satr_level_names[level] : "unknown";
}

int satr_kernel_level_supported(int level) {
    const satr_cpu c = satr_detect_cpu();
    return satr_supported(&c, level);
}

int satr_kernel_best_level(void) {
    const satr_cpu c = satr_detect_cpu();
    int best = SATR_KERNEL_BASELINE;
    for (int level = 0; level < SATR_KERNEL_LEVEL_COUNT; level++)
        if (satr_supported(&c, level)) best = level;
    return best;
}

const char *satr_cpu_features(void) {
    static char text[256];
    const satr_cpu c = satr_detect_cpu();
    text[0] = 0;
#if SATR_X86
    struct { const char *name; int on; } list[] = {
        {"sse4.2", c.sse42}, {"popcnt", c.popcnt}, {"avx", c.avx && c.os_avx}, {"avx2", c.avx2 && c.os_avx}, {"bmi1", c.bmi1},
        {"bmi2", c.bmi2}, {"lzcnt", c.lzcnt}, {"fma", c.fma}, {"avx512f", c.avx512f && c.os_avx512},
        {"avx512bw", c.avx512bw && c.os_avx512}, {"avx512vl", c.avx512vl && c.os_avx512},
        {"avx512dq", c.avx512dq && c.os_avx512}, {"avx512cd", c.avx512cd && c.os_avx512},
        {"avx512vpopcntdq", c.avx512vpopcntdq && c.os_avx512},
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        if (!list[i].on) continue;
        if (text[0]) strncat(text, " ", sizeof text - strlen(text) - 1);
        strncat(text, list[i].name, sizeof text - strlen(text) - 1);
    }
#endif
    if (!text[0]) strncpy(text, "(none checked)", sizeof text - 1);
    return text;
}

// MARK: - Dispatch

// -1 until chosen; then the active level. Kernel calls read it relaxed: it changes only at the first
// call (idempotent: every racing thread computes the same level) or by satr_kernel_select.
static _Atomic int satr_active = -1;

static int satr_choose_level(void) {
    const satr_cpu c = satr_detect_cpu();
    const char *forced = getenv("SATR_KERNEL");
    if (forced && forced[0]) {
        for (int level = 0; level < SATR_KERNEL_LEVEL_COUNT; level++) {
            if (strcmp(forced, satr_level_names[level]) != 0) continue;
            if (!satr_supported(&c, level)) {
                fprintf(stderr,
                        "satr: SATR_KERNEL=%s, but this CPU does not support the %s kernels "
                        "(CPU features: %s). Unset SATR_KERNEL or choose a level this CPU supports.\n",
                        forced, forced, satr_cpu_features());
                exit(78);
            }
            return level;
        }
        fprintf(stderr, "satr: SATR_KERNEL=%s is not a kernel level (baseline, popcnt, avx2, avx512).\n", forced);
        exit(78);
    }
    int best = SATR_KERNEL_BASELINE;
    for (int level = 0; level < SATR_KERNEL_LEVEL_COUNT; level++)
        if (satr_supported(&c, level)) best = level;
    return best;
}

int satr_kernel_active_level(void) {
    int level = atomic_load_explicit(&satr_active, memory_order_relaxed);
    if (level < 0) {
        level = satr_choose_level();
        atomic_store_explicit(&satr_active, level, memory_order_relaxed);
    }
    return level;
}

int satr_kernel_select(int level) {
    if (!satr_kernel_level_supported(level)) return -1;
    atomic_store_explicit(&satr_active, level, memory_order_relaxed);
    return 0;
}

int64_t satr_network_env_step(
    const satr_network_params *params, const uint64_t *connectivity, const int8_t *input_signs,
    satr_network_state state, satr_network_scratch scratch, const float *observation, float *output,
    uint64_t *record) {
    switch (satr_kernel_active_level()) {
#if SATR_X86
    case SATR_KERNEL_AVX512:
        return network_env_step_avx512(params, connectivity, input_signs, state, scratch, observation, output, record);
    case SATR_KERNEL_AVX2:
        return network_env_step_avx2(params, connectivity, input_signs, state, scratch, observation, output, record);
    case SATR_KERNEL_POPCNT:
        return network_env_step_popcnt(params, connectivity, input_signs, state, scratch, observation, output, record);
#endif
    default:
        return network_env_step_baseline(params, connectivity, input_signs, state, scratch, observation, output, record);
    }
}

void satr_vector_times_matrix(const float *coefficient, int64_t rows, const float *matrix, int64_t n, float *out) {
    switch (satr_kernel_active_level()) {
#if SATR_X86
    case SATR_KERNEL_AVX512:
        vector_times_matrix_avx512(coefficient, rows, matrix, n, out);
        return;
    case SATR_KERNEL_AVX2:
        vector_times_matrix_avx2(coefficient, rows, matrix, n, out);
        return;
    case SATR_KERNEL_POPCNT:
        vector_times_matrix_popcnt(coefficient, rows, matrix, n, out);
        return;
#endif
    default:
        vector_times_matrix_baseline(coefficient, rows, matrix, n, out);
    }
}

void satr_statistics_add_words(
    int64_t word_begin, int64_t word_end, const satr_member_bits *members, int64_t member_count,
    int64_t dimension, int64_t *weighted, int64_t *squared, int64_t *first_half) {
    switch (satr_kernel_active_level()) {
#if SATR_X86
    case SATR_KERNEL_AVX512:
        statistics_add_words_avx512(word_begin, word_end, members, member_count, dimension, weighted, squared, first_half);
        return;
    case SATR_KERNEL_AVX2:
        statistics_add_words_avx2(word_begin, word_end, members, member_count, dimension, weighted, squared, first_half);
        return;
    case SATR_KERNEL_POPCNT:
        statistics_add_words_popcnt(word_begin, word_end, members, member_count, dimension, weighted, squared, first_half);
        return;
#endif
    default:
        statistics_add_words_baseline(word_begin, word_end, members, member_count, dimension, weighted, squared, first_half);
    }
}

void satr_bernoulli_sample(
    uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1, const uint32_t *thresholds,
    int64_t groups, int partner, uint64_t *words) {
    switch (satr_kernel_active_level()) {
#if SATR_X86
    case SATR_KERNEL_AVX512:
        bernoulli_sample_avx512(c1, c2, c3, k0, k1, thresholds, groups, partner, words);
        return;
    case SATR_KERNEL_AVX2:
        bernoulli_sample_avx2(c1, c2, c3, k0, k1, thresholds, groups, partner, words);
        return;
    case SATR_KERNEL_POPCNT:
        bernoulli_sample_popcnt(c1, c2, c3, k0, k1, thresholds, groups, partner, words);
        return;
#endif
    default:
        bernoulli_sample_baseline(c1, c2, c3, k0, k1, thresholds, groups, partner, words);
    }
}
