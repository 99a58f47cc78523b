// One level's kernels. kernels.c includes this file once per level with SATR_FN(name) defined to
// give the level's names, inside a `#pragma clang attribute push(target(...))` region, so the
// same plain C is compiled (and auto-vectorized) for each instruction set. Not a public header.
//
// Every float operation here mirrors the Swift reference expression by expression (same
// operands, same order, no fused multiply-add: FP_CONTRACT is OFF in kernels.c).

static inline float SATR_FN(flush_subnormal)(float x) {
    // |x| < 2^-126 exactly when the exponent field is zero (NetworkConstants.flushSubnormal).
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits & 0x7F800000u) == 0 ? 0.0f : x;
}

/// counts[j] op popcount(OR over the group's terms t of (masks[t] & C_j[words[t]])), where op is
/// = (mode 0, the first group of a substep: no separate zeroing pass), += (mode 1), -= (mode 2), or
/// = - (mode 3, the first group when no excitatory neuron fired).
static inline void SATR_FN(count_pass)(
    int mode, int64_t size, const int64_t *words, const uint64_t *masks, const uint64_t *kh,
    int64_t n, int32_t *restrict counts) {
    const uint64_t m0 = masks[0];
    const uint64_t *restrict c0 = kh + words[0] * n;
    // Unused terms read column 0 with a zero mask; they appear only in the variants that use them.
    const uint64_t m1 = size > 1 ? masks[1] : 0, m2 = size > 2 ? masks[2] : 0, m3 = size > 3 ? masks[3] : 0;
    const uint64_t *restrict c1 = kh + (size > 1 ? words[1] : words[0]) * n;
    const uint64_t *restrict c2 = kh + (size > 2 ? words[2] : words[0]) * n;
    const uint64_t *restrict c3 = kh + (size > 3 ? words[3] : words[0]) * n;
#define SATR_COUNT_LOOP(EXPR)                                                                   \
    switch (mode) {                                                                             \
    case 0: for (int64_t j = 0; j < n; j++) counts[j] = (int32_t)__builtin_popcountll(EXPR); break;   \
    case 1: for (int64_t j = 0; j < n; j++) counts[j] += (int32_t)__builtin_popcountll(EXPR); break;  \
    case 2: for (int64_t j = 0; j < n; j++) counts[j] -= (int32_t)__builtin_popcountll(EXPR); break;  \
    default: for (int64_t j = 0; j < n; j++) counts[j] = -(int32_t)__builtin_popcountll(EXPR); break; \
    }
    switch (size) {
    case 1: SATR_COUNT_LOOP(m0 & c0[j]) break;
    case 2: SATR_COUNT_LOOP((m0 & c0[j]) | (m1 & c1[j])) break;
    case 3: SATR_COUNT_LOOP((m0 & c0[j]) | (m1 & c1[j]) | (m2 & c2[j])) break;
    default: SATR_COUNT_LOOP((m0 & c0[j]) | (m1 & c1[j]) | (m2 & c2[j]) | (m3 & c3[j])) break;
    }
#undef SATR_COUNT_LOOP
}

/// One substep (ReferenceNetwork.step, docs/NETWORK.md): the recurrent counts by AND + popcount, then the neuron update.
static inline int64_t SATR_FN(substep)(
    const satr_network_params *p, const uint64_t *kh, const satr_network_state *st, const satr_network_scratch *sc) {
    const int64_t n = p->neurons, w = p->words_per_row;
    int32_t *restrict counts = sc->counts;
    uint64_t *restrict s = st->spike_words;
    enum { max_group = 4 };

    // Popcount groups: words whose masked spike bits occupy disjoint positions share one popcount
    // (popcount(a & x) + popcount(b & y) = popcount((a & x) | (b & y)) when a & b == 0).
    int64_t group_count = 0;
    // restrict: the scratch arrays do not overlap, so the group bookkeeping stays in registers.
    int64_t *restrict group_words = sc->group_words, *restrict group_sizes = sc->group_sizes;
    uint64_t *restrict group_masks = sc->group_masks, *restrict group_unions = sc->group_unions;
    const uint64_t *restrict excitatory_mask = p->excitatory_mask;
    for (int excitatory = 1; excitatory >= 0; excitatory--) {
        const int64_t first_group = group_count;
        for (int64_t word = 0; word < w; word++) {
            const uint64_t mask = s[word] & (excitatory ? excitatory_mask[word] : ~excitatory_mask[word]);
            if (mask == 0) continue;
            int64_t g = first_group;
            while (g < group_count && (group_sizes[g] == max_group || (group_unions[g] & mask) != 0)) g++;
            if (g == group_count) {
                group_sizes[g] = 0;
                group_unions[g] = 0;
                group_count++;
            }
            group_words[g * max_group + group_sizes[g]] = word;
            group_masks[g * max_group + group_sizes[g]] = mask;
            group_sizes[g]++;
            group_unions[g] |= mask;
        }
        for (int64_t g = first_group; g < group_count; g++) {
            const int mode = g > 0 ? (excitatory ? 1 : 2) : (excitatory ? 0 : 3);
            SATR_FN(count_pass)(mode, group_sizes[g], group_words + g * max_group, group_masks + g * max_group,
                                kh, n, counts);
        }
    }
    if (group_count == 0) memset(counts, 0, (size_t)n * sizeof *counts);

    // Neuron update: the same IEEE operations per neuron as the Swift kernel and the reference.
    const float alpha_syn = p->alpha_synapse, alpha_m = p->alpha_membrane;
    const float one_minus_alpha_m = p->one_minus_alpha_membrane, alpha_out = p->alpha_out;
    const float v_th = p->threshold_voltage, v_r = p->reset_voltage, zero_increment = p->zero_increment;
    const float r_h = p->recurrent_scale;
    const float *restrict increments = p->rate_increment;
    float *restrict v = st->membrane, *restrict i_syn = st->synaptic_current, *restrict r = st->rate_trace;
    const float *restrict i_in = st->input_current;
    uint8_t *restrict fired = sc->fired;
    // Vectorize on every level: LLVM's cost model declines on the SSE2 baseline (no blend
    // instruction), yet 4-lane selects by AND/ANDN still beat the scalar loop with its branches.
#pragma clang loop vectorize(enable)
    for (int64_t j = 0; j < n; j++) {
        const float current = SATR_FN(flush_subnormal)(alpha_syn * i_syn[j] + r_h * (float)counts[j]);
        i_syn[j] = current;
        const float potential = alpha_m * v[j] + one_minus_alpha_m * (v_r + current + i_in[j]);
        const int spike = potential > v_th;
        v[j] = SATR_FN(flush_subnormal)(spike ? v_r : potential);
        r[j] = SATR_FN(flush_subnormal)(alpha_out * r[j] + (spike ? increments[j] : zero_increment));
        fired[j] = (uint8_t)spike;
    }
    // Pack the fired flags (one byte each) into the spike words.
    int64_t spike_count = 0;
    for (int64_t word = 0; word < w; word++) {
        uint64_t bits = 0;
        for (int chunk = 0; chunk < 8; chunk++) {
            uint64_t flags;
            memcpy(&flags, fired + word * 64 + chunk * 8, sizeof flags);
            bits |= ((flags * 0x0102040810204080ull) >> 56) << (chunk * 8);
        }
        s[word] = bits;
        spike_count += __builtin_popcountll(bits);
    }
    return spike_count;
}

static int64_t SATR_FN(network_env_step)(
    const satr_network_params *p, const uint64_t *k, const int8_t *input_signs, satr_network_state st,
    satr_network_scratch sc, const float *x, float *y, uint64_t *record) {
    const int64_t n = p->neurons, d = p->observation_size, a = p->action_size, w = p->words_per_row;

    // i_in[j] = R_in * sum_d x_d * sign[d, j], summed over d in order (ReferenceNetwork.step).
    // 64 neurons at a time, their sums in registers while the rows stream past (N is a multiple
    // of 64), so each row costs one byte-load, a conversion, a multiply and an add per neuron.
    float *restrict i_in = st.input_current;
    for (int64_t block = 0; block < n; block += 64) {
        float acc[64];
        for (int k = 0; k < 64; k++) acc[k] = 0.0f;
        const int8_t *restrict signs = input_signs + block;
        for (int64_t row = 0; row < d; row++, signs += n) {
            const float xd = x[row];
            for (int k = 0; k < 64; k++) acc[k] = acc[k] + xd * (float)signs[k];
        }
        for (int k = 0; k < 64; k++) i_in[block + k] = acc[k];
    }
    const float r_in = p->input_scale;
    for (int64_t j = 0; j < n; j++) i_in[j] = SATR_FN(flush_subnormal)(r_in * i_in[j]);

    int64_t spike_count = 0;
    const uint64_t *kh = k + p->recurrent_word_offset;
    for (int64_t t = 0; t < p->substeps; t++) {
        spike_count += SATR_FN(substep)(p, kh, &st, &sc);
        if (record) memcpy(record + t * w, st.spike_words, (size_t)w * sizeof *record);
    }

    // y[a] = R_out * sum_j r[j] K_out[j, a], as 16 lane-blocked partial sums over the set bits
    // (j = l, l + 16, ...), then added left to right (NetworkConstants.readoutLanes).
    const float *restrict r = st.rate_trace;
    float *restrict partial = sc.partial_sums;
    const float r_out = p->readout_scale;
    for (int64_t action = 0; action < a; action++) {
        const uint64_t *row = k + p->readout_word_offset + action * w;
        for (int l = 0; l < 16; l++) partial[l] = 0.0f;
        for (int64_t block = 0; block < n / 16; block++) {
            const uint32_t bits = (uint32_t)(row[block >> 2] >> (16 * (block & 3)));
            const float *restrict values = r + block * 16;
            for (int l = 0; l < 16; l++) {
                const float sum = partial[l];
                partial[l] = ((bits >> l) & 1u) ? sum + values[l] : sum;
            }
        }
        float sum = 0.0f;
        for (int l = 0; l < 16; l++) sum = sum + partial[l];
        y[action] = r_out * sum;
    }
    return spike_count;
}

/// DenseSNNKernel.vectorTimesMatrix: out[j] = sum_r coefficient[r] * matrix[r * n + j], the rows
/// summed in order from a zero start, 64 columns at a time (the block's sums stay in registers
/// while the rows stream past). Every out[j] sees the same additions in the same order on every
/// level and in any blocking.
static void SATR_FN(vector_times_matrix)(
    const float *restrict coefficient, int64_t rows, const float *restrict matrix, int64_t n, float *restrict out) {
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        float acc[64];
        for (int k = 0; k < 64; k++) acc[k] = 0.0f;
        const float *restrict row = matrix + j;
        for (int64_t i = 0; i < rows; i++, row += n) {
            const float c = coefficient[i];
            for (int k = 0; k < 64; k++) acc[k] = acc[k] + c * row[k];
        }
        for (int k = 0; k < 64; k++) out[j + k] = acc[k];
    }
    for (; j < n; j++) {
        float sum = 0.0f;
        for (int64_t i = 0; i < rows; i++) sum = sum + coefficient[i] * matrix[i * n + j];
        out[j] = sum;
    }
}

/// BitStatistics.addWords.
static void SATR_FN(statistics_add_words)(
    int64_t word_begin, int64_t word_end, const satr_member_bits *members, int64_t member_count,
    int64_t d, int64_t *restrict a1, int64_t *restrict a2, int64_t *restrict h) {
    const int64_t full_words = d >> 6;
    for (int64_t block_start = word_begin; block_start < word_end; block_start += 16) {
        const int64_t block_end = block_start + 16 < word_end ? block_start + 16 : word_end;
        for (int64_t m = 0; m < member_count; m++) {
            const int64_t weight = members[m].weight;
            const int64_t weight_squared = (int64_t)((uint64_t)weight * (uint64_t)weight);
            const uint64_t *bits = members[m].bits;
            const int in_first_half = members[m].in_first_half != 0;
            int64_t dense_end = block_end < full_words ? block_end : full_words;
            if (dense_end < block_start) dense_end = block_start;
            for (int64_t w = block_start; w < dense_end; w++) {
                const uint64_t word = bits[w];
                if (word == 0) continue;
                int64_t *restrict p1 = a1 + (w << 6), *restrict p2 = a2 + (w << 6);
                for (int j = 0; j < 64; j++) {
                    const uint64_t mask = 0 - ((word >> j) & 1);
                    p1[j] = (int64_t)((uint64_t)p1[j] + (mask & (uint64_t)weight));
                    p2[j] = (int64_t)((uint64_t)p2[j] + (mask & (uint64_t)weight_squared));
                }
                if (in_first_half) {
                    int64_t *restrict ph = h + (w << 6);
                    for (int j = 0; j < 64; j++) {
                        const uint64_t mask = 0 - ((word >> j) & 1);
                        ph[j] = (int64_t)((uint64_t)ph[j] + (mask & (uint64_t)weight));
                    }
                }
            }
            for (int64_t w = dense_end; w < block_end; w++) {
                uint64_t word = bits[w];
                const int64_t base = w << 6;
                while (word != 0) {
                    const int64_t i = base + __builtin_ctzll(word);
                    word &= word - 1;
                    if (i >= d) break;
                    a1[i] = (int64_t)((uint64_t)a1[i] + (uint64_t)weight);
                    a2[i] = (int64_t)((uint64_t)a2[i] + (uint64_t)weight_squared);
                    if (in_first_half) h[i] = (int64_t)((uint64_t)h[i] + (uint64_t)weight);
                }
            }
        }
    }
}

/// BernoulliDistribution.sample (without the padding clear), in clang vector types (lowered to
/// the level's vector registers; on the baseline, pairs of SSE2 registers) like PhiloxLanes:
/// 16 Philox blocks (two groups of 32 bits, one output word) per iteration. The 16 32-bit lanes
/// live in pairs in 8 64-bit lanes (lane 2i in the low half of pair i): the products of both
/// halves with a 32-bit constant are exact 64-bit products of 32-bit values (one vpmuludq each)
/// whose halves land in place without lane shuffles.
/// (Vectors pass by pointer: the helpers are inlined, and vector arguments would change the ABI
/// of a function between levels.)
static inline void SATR_FN(mul_hi_lo)(const satr_u64x8 *x, uint64_t m, satr_u64x8 *hi, satr_u64x8 *lo) {
    const satr_u64x8 low32 = 0xFFFFFFFFull;
    const satr_u64x8 even = (*x & low32) * m;
    const satr_u64x8 odd = (*x >> 32) * m;
    *hi = (even >> 32) | (odd & ~low32);
    *lo = (even & low32) | (odd << 32);
}

/// The 32 bits of one group from its 8 blocks (lanes of r0 ... r3) and its 32 thresholds.
/// Lanes `first ..< first + 8` of y0 ... y3 are the group's 8 blocks.
static inline uint32_t SATR_FN(group_bits)(
    const satr_u32x16 *y0, const satr_u32x16 *y1, const satr_u32x16 *y2, const satr_u32x16 *y3, int first,
    const uint32_t *t, int partner) {
    satr_u32x8 r0, r1, r2, r3, t0, t1, t2, t3;
    memcpy(&r0, (const uint32_t *)y0 + first, sizeof r0);
    memcpy(&r1, (const uint32_t *)y1 + first, sizeof r1);
    memcpy(&r2, (const uint32_t *)y2 + first, sizeof r2);
    memcpy(&r3, (const uint32_t *)y3 + first, sizeof r3);
    memcpy(&t0, t, sizeof t0);
    memcpy(&t1, t + 8, sizeof t1);
    memcpy(&t2, t + 16, sizeof t2);
    memcpy(&t3, t + 24, sizeof t3);
    const satr_u32x8 shift0 = {1u << 0, 1u << 4, 1u << 8, 1u << 12, 1u << 16, 1u << 20, 1u << 24, 1u << 28};
    satr_u32x8 acc;
    // A vector comparison gives -1 (all ones) or 0 per lane: the AND selects the lane's bit.
    if (partner) {
        acc = ((satr_u32x8)(r0 >= t0) & shift0) | ((satr_u32x8)(r1 >= t1) & (shift0 << 1))
            | ((satr_u32x8)(r2 >= t2) & (shift0 << 2)) | ((satr_u32x8)(r3 >= t3) & (shift0 << 3));
    } else {
        acc = ((satr_u32x8)(r0 < t0) & shift0) | ((satr_u32x8)(r1 < t1) & (shift0 << 1))
            | ((satr_u32x8)(r2 < t2) & (shift0 << 2)) | ((satr_u32x8)(r3 < t3) & (shift0 << 3));
    }
    return __builtin_reduce_or(acc);
}

static void SATR_FN(bernoulli_sample)(
    uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1, const uint32_t *thresholds,
    int64_t groups, int partner, uint64_t *words) {
    const int64_t words_out = (groups + 1) >> 1;
    const satr_u64x8 pair_index = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int64_t q = 0; q < words_out; q++) {
        // Lanes 2i, 2i + 1 = blocks first + 2i, first + 2i + 1 (counters wrap modulo 2^32).
        const uint32_t first = (uint32_t)(16 * q);
        const satr_u64x8 evens = (((satr_u64x8)first + 2 * pair_index) & 0xFFFFFFFFull);
        const satr_u64x8 odds = (((satr_u64x8)first + 2 * pair_index + 1) & 0xFFFFFFFFull);
        satr_u64x8 x0 = evens | (odds << 32);
        satr_u64x8 x1 = (satr_u64x8)((uint64_t)c1 * 0x100000001ull);
        satr_u64x8 x2 = (satr_u64x8)((uint64_t)c2 * 0x100000001ull);
        satr_u64x8 x3 = (satr_u64x8)((uint64_t)c3 * 0x100000001ull);
        uint32_t key0 = k0, key1 = k1;
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                key0 += 0x9E3779B9u;
                key1 += 0xBB67AE85u;
            }
            satr_u64x8 hi0, lo0, hi2, lo2;
            SATR_FN(mul_hi_lo)(&x0, 0xD2511F53ull, &hi0, &lo0);
            SATR_FN(mul_hi_lo)(&x2, 0xCD9E8D57ull, &hi2, &lo2);
            x0 = hi2 ^ x1 ^ (satr_u64x8)((uint64_t)key0 * 0x100000001ull);
            x1 = lo2;
            x2 = hi0 ^ x3 ^ (satr_u64x8)((uint64_t)key1 * 0x100000001ull);
            x3 = lo0;
        }
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the lane pairs assume a little-endian target"
#endif
        satr_u32x16 y0, y1, y2, y3;
        memcpy(&y0, &x0, sizeof y0);
        memcpy(&y1, &x1, sizeof y1);
        memcpy(&y2, &x2, sizeof y2);
        memcpy(&y3, &x3, sizeof y3);
        // Lanes 0 ..< 8 are the blocks of group 2q, lanes 8 ..< 16 those of group 2q + 1.
        uint64_t result = SATR_FN(group_bits)(
            &y0, &y1, &y2, &y3, 0, thresholds + 32 * (2 * q), partner);
        if (2 * q + 1 < groups) {
            result |= (uint64_t)SATR_FN(group_bits)(
                &y0, &y1, &y2, &y3, 8, thresholds + 32 * (2 * q + 1), partner) << 32;
        }
        words[q] = result;
    }
}
