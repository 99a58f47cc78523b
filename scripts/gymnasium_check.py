#!/usr/bin/env python3
"""Run a SATR policy file in the real Gymnasium (docs/GYMNASIUM_CHECK.md).

    python3 scripts/gymnasium_check.py POLICY [--episodes N] [--seed S] [--json]

POLICY is a policy file (`policy.json`, `policy_best.json`, `satr export`; docs/POLICY_FORMAT.md)
or a `satr train` output directory (its `policy.json`, as `satr eval` reads it). The policy runs in
`gymnasium.make(task)` with the standard v5 settings, or with the `reset_noise_scale` and
`terminate_when_unhealthy` that the file records (the options `satr eval` uses; the flags below
override them), and always with the file's observation options (`include_*_in_observation`). Episode e resets with `env.reset(seed=S + e)`, and the network starts from the
membrane `satr eval --seed S` draws for episode e. The reset noise is Gymnasium's own (numpy's
generator), so the returns compare with `satr eval`'s statistically, not bit for bit.
`--project-reset` replaces Gymnasium's reset noise with the project's (docs/TASKS.md, "Reset"), so
that the episodes start from the same states as `satr eval --seed S`.

Only gymnasium, mujoco and numpy are needed; nothing of the project is imported. The network is
this file's own implementation of docs/NETWORK.md. It gives the same Float32 results as the numpy
runner at the end of docs/POLICY_FORMAT.md (which reproduces the Swift kernels bit for bit),
vectorized: every operation is still one IEEE Float32 operation in the documented order.
"""

import argparse
import base64
import json
import math
import os
import sys
import time

import numpy as np

F = np.float32
# Gymnasium v5 constructor arguments that choose the observation's blocks (Ant, Humanoid); a policy
# file records the ones it was trained with (docs/POLICY_FORMAT.md).
OBSERVATION_OPTIONS = ("include_cinert_in_observation", "include_cvel_in_observation",
                       "include_qfrc_actuator_in_observation", "include_cfrc_ext_in_observation")
TINY = F(2.0 ** -126)

# ---------------------------------------------------------------------------------------------------
# Random numbers: Philox4x32-10 streams (Sources/Randomness/Philox.swift, docs/NETWORK.md).

MASK32 = 0xFFFFFFFF
NETWORK_INITIAL_STATE, RESET_NOISE, EVALUATION = 2, 3, 4


def philox4x32_10(counter, key):
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for round_index in range(10):
        if round_index:
            k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
    return c0, c1, c2, c3


class CounterStream:
    """The words of blocks 0, 1, 2, ... of the stream (seed, generation, member, purpose)."""

    def __init__(self, seed, generation, member, purpose):
        self.key = (seed & MASK32, (seed >> 32) & MASK32)
        self.rest = (member, generation, purpose)
        self.block = 0
        self.buffer = []

    def word(self):
        if not self.buffer:
            self.buffer = list(philox4x32_10((self.block,) + self.rest, self.key))
            self.block += 1
        return self.buffer.pop(0)

    def uniform(self, low, high):
        """nextUniform(low, high): low + (high - low) * u, u from 53 bits of two words."""
        w0 = self.word()
        w1 = self.word()
        return low + (high - low) * (((w0 | (w1 << 32)) >> 11) * 2.0 ** -53)

    def normal(self):
        """nextNormal(): Box-Muller, one value from two uniforms."""
        u1 = self.uniform(0.0, 1.0)
        u2 = self.uniform(0.0, 1.0)
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def derived_seed(seed, generation, member, purpose):
    s = CounterStream(seed, generation, member, purpose)
    w0 = s.word()
    w1 = s.word()
    return w0 | (w1 << 32)


def eval_seeds(seed, episode):
    """`satr eval --seed SEED`, episode e: (episode seed s_e, the project's reset seed)."""
    s_e = derived_seed(seed, 0, episode, EVALUATION)
    return s_e, derived_seed(s_e, 0, 0, RESET_NOISE)


def initial_membrane(episode_seed, n):
    """v_n = Float32(W_n >> 8) * 2^-24 from the stream (s_e, 0, 0, networkInitialState)."""
    s = CounterStream(episode_seed, 0, 0, NETWORK_INITIAL_STATE)
    return np.array([F(s.word() >> 8) * F(2.0 ** -24) for _ in range(n)], dtype=F)


def self_test_seeds():
    """The test vector of docs/POLICY_FORMAT.md (`--seed 0`, episode 0)."""
    s_0, reset_seed = eval_seeds(0, 0)
    v = initial_membrane(s_0, 4)
    expected = np.array([0.8660147, 0.039019942, 0.96932244, 0.41494274], dtype=F)
    ok = s_0 == 17462126656986892470 and reset_seed == 15066754158929009207 and np.array_equal(v, expected)
    if not ok:
        raise SystemExit(f"gymnasium_check: the seed test vector failed: s_0={s_0}, reset seed={reset_seed}, v={v}")


# ---------------------------------------------------------------------------------------------------
# The network (docs/NETWORK.md; summary in docs/POLICY_FORMAT.md, "Running the policy").


def flush(a):
    """+0 where |a| < 2^-126, else a (Float32)."""
    return np.where(np.abs(a) < TINY, F(0), a).astype(F)


def sequential_row_sum(rows, n):
    """Sums the rows of `rows` (k x n, Float32) in order, starting from +0: one Float32 addition per row.

    np.add.accumulate runs strictly left to right, unlike np.sum (pairwise)."""
    if len(rows) == 0:
        return np.zeros(n, F)
    stacked = np.concatenate([np.zeros((1, n), F), np.asarray(rows, F)], axis=0)
    return np.add.accumulate(stacked, axis=0, dtype=F)[-1]


class SpikingPolicy:
    """Common part: normalization, constants, state, substep and action mapping."""

    def __init__(self, p):
        self.D, self.A, self.N = p["observation_size"], p["action_size"], p["neurons"]
        self.mean = np.asarray(p["normalizer"]["mean"], np.float64)
        self.std = np.asarray(p["normalizer"]["std"], np.float64)
        self.low = np.asarray(p["action_low"], np.float64)
        self.high = np.asarray(p["action_high"], np.float64)
        if self.mean.shape != (self.D,) or self.std.shape != (self.D,):
            raise ValueError("the normalizer has the wrong size")
        if self.low.shape != (self.A,) or self.high.shape != (self.A,):
            raise ValueError("the action box has the wrong size")
        self.a_syn = F(math.exp(-0.1))       # alpha_syn = exp(-dt / tau_syn), dt = 0.5, tau_syn = 5
        self.a_m = F(math.exp(-0.05))        # alpha_m = alpha_out = exp(-dt / tau_m), tau_m = 10
        self.one_minus_a_m = F(F(1) - self.a_m)  # a Float32 subtraction from the rounded alpha
        self.center = (self.high + self.low) / 2
        self.half = (self.high - self.low) / 2

    def reset(self, membrane):
        self.v = np.array(membrane, dtype=F, copy=True)
        self.i_syn = np.zeros(self.N, F)
        self.r = np.zeros(self.N, F)
        self.fired = np.zeros(self.N, bool)

    def act(self, obs):
        x = ((np.asarray(obs, np.float64) - self.mean) / self.std).astype(F)
        a = np.clip(self.forward(x).astype(np.float64), -1.0, 1.0)
        return np.where(self.center == 0, self.half * a, self.center + self.half * a)

    def input_current(self, signed_weights, x):
        # acc_j = sum over d in order, from +0, of x_d * w[d, j]; then flush(R_in * acc).
        acc = sequential_row_sum(x[:, None] * signed_weights, self.N)
        return flush(self.r_in * acc)

    def substep(self, i_in, recurrent, increment):
        self.i_syn = flush(self.a_syn * self.i_syn + self.r_h * recurrent)
        p = (self.a_m * self.v + self.one_minus_a_m * ((F(0) + self.i_syn) + i_in)).astype(F)
        self.fired = p > F(1)
        self.v = flush(np.where(self.fired, F(0), p))
        self.r = flush(self.a_m * self.r + np.where(self.fired, increment, F(0)).astype(F))

    def readout(self, terms, total_start):
        # terms: A x N products. y[a] = R_out * (partial_0 + ... + partial_15), left to right from
        # total_start, partial_l = sum over full blocks b in order, from +0, of terms[a, 16 b + l];
        # then the N mod 16 remaining terms in order (dense networks; N is a multiple of 64 here).
        blocks = self.N // 16
        partial = np.zeros((self.A, 16), F)
        for b in range(blocks):
            partial = (partial + terms[:, 16 * b:16 * b + 16]).astype(F)
        total = np.full(self.A, total_start, F)
        for l in range(16):
            total = (total + partial[:, l]).astype(F)
        for j in range(16 * blocks, self.N):
            total = (total + terms[:, j]).astype(F)
        return (self.r_out * total).astype(F)


class BitsetPolicy(SpikingPolicy):
    def __init__(self, p):
        super().__init__(p)
        D, A, N = self.D, self.A, self.N
        if N % 64:
            raise ValueError(f"neurons = {N} is not a multiple of 64")
        d = 2 * D * N + N * N + N * A
        raw = base64.b64decode(p["connectivity"])
        if len(raw) != 8 * ((d + 63) // 64):
            raise ValueError(f"connectivity has {len(raw)} bytes, expected {8 * ((d + 63) // 64)} for d = {d}")
        bits = np.unpackbits(np.frombuffer(raw, dtype="<u8").view(np.uint8), bitorder="little")[:d]
        k_in = bits[:2 * D * N].reshape(2 * D, N).astype(np.int8)           # [row, post]
        k_h = bits[2 * D * N:2 * D * N + N * N].reshape(N, N)               # [post, pre]
        k_out = bits[2 * D * N + N * N:].reshape(A, N)                      # [action, neuron]
        self.sign_in = (k_in[:D] - k_in[D:]).astype(F)                      # +x_d row minus -x_d row
        self.k_h = k_h.T.astype(F)                                          # [pre, post], 0/1
        self.k_out = k_out.astype(F)
        n_e = p["excitatory_neurons"]
        self.sign = np.where(np.arange(N) < n_e, F(1), F(-1)).astype(F)
        self.r_in = F(0.1 * 1.0 * 10.0 * math.sqrt(2.0 / (0.5 * D)))
        self.r_h = F(1.0 * 1.0 * (10.0 / 5.0) * math.sqrt(2.0 / (0.5 * N)))
        self.r_out = F(5.0 * math.sqrt(1.0 / (0.5 * N)))
        self.increment = ((self.one_minus_a_m * self.sign) / F(0.5)).astype(F)

    def forward(self, x):
        i_in = self.input_current(self.sign_in, x)
        for _ in range(33):
            # c_j = (firing excitatory pre with K_h set) - (firing inhibitory ones): small integers,
            # exact in Float32 whatever the summation order, so a BLAS product is exact here.
            count = np.where(self.fired, self.sign, F(0)) @ self.k_h
            self.substep(i_in, count.astype(F), self.increment)
        return self.readout((self.r * self.k_out).astype(F), F(0))


class DensePolicy(SpikingPolicy):
    def __init__(self, p):
        super().__init__(p)
        D, A, N = self.D, self.A, self.N
        w = np.frombuffer(base64.b64decode(p["weights"]), dtype="<f4").astype(F)
        if w.size != D * N + N * N + N * A:
            raise ValueError(f"weights has {w.size} values, expected {D * N + N * N + N * A}")
        self.w_in = w[:D * N].reshape(D, N)                                 # [d, post]
        self.w_h = w[D * N:D * N + N * N].reshape(N, N)                     # [pre, post]
        self.w_out = w[D * N + N * N:].reshape(A, N)                        # [action, neuron]
        self.r_in = F(math.sqrt(2.0 / D))
        self.r_h = F(2.0 * math.sqrt(2.0 / N))
        self.r_out = F(5.0 / math.sqrt(N))
        self.increment = F(self.one_minus_a_m / F(0.5))

    def forward(self, x):
        i_in = self.input_current(self.w_in, x)
        for _ in range(33):
            # rec_j = sum over all i in order, from +0, of s_i W_h[i, j]. The silent rows add +-0,
            # which never changes a sum that starts from +0, so only the firing rows are added.
            rec = sequential_row_sum(self.w_h[np.flatnonzero(self.fired)], self.N)
            self.substep(i_in, rec, self.increment)
        return self.readout((self.r * self.w_out).astype(F), F(-0.0))


def load_policy(path):
    if os.path.isdir(path):
        path = os.path.join(path, "policy.json")
    try:
        with open(path) as f:
            p = json.load(f)
    except OSError as e:
        raise SystemExit(f"gymnasium_check: cannot read the policy file {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        raise SystemExit(f"gymnasium_check: {path} is not valid JSON ({e})")
    if not isinstance(p, dict):
        raise SystemExit(f"gymnasium_check: {path} is not a SATR policy file (not a JSON object)")
    if p.get("format") != "satr-policy":
        raise SystemExit(f"gymnasium_check: {path} is not a SATR policy file (format {p.get('format')!r})")
    if p.get("version") != 1:
        raise SystemExit(f"gymnasium_check: {path}: policy format version {p.get('version')}; this script reads version 1")
    network = p["network"]
    if network == "bitset":
        return path, p, BitsetPolicy(p)
    if network == "dense":
        return path, p, DensePolicy(p)
    raise SystemExit(f"gymnasium_check: {path}: unknown network {network!r}")


# ---------------------------------------------------------------------------------------------------
# The project's reset noise (docs/TASKS.md, "Reset"), for --project-reset.

# Tasks whose velocity noise is s N(0, 1); the others draw U(-s, s) for both.
NORMAL_VELOCITY_NOISE = {"HalfCheetah", "Ant", "InvertedDoublePendulum"}


def apply_project_reset(env, task, scale, reset_seed):
    """Sets the state Gymnasium's reset_model would set, with the project's noise, and returns the
    observation. With scale 0 nothing is drawn (qpos0 at zero velocity)."""
    base = env.unwrapped
    nq, nv = base.model.nq, base.model.nv
    qpos = np.array(base.init_qpos, dtype=np.float64, copy=True)
    qvel = np.array(base.init_qvel, dtype=np.float64, copy=True)
    if scale != 0:
        s = CounterStream(reset_seed, 0, 0, RESET_NOISE)
        qpos = qpos + np.array([s.uniform(-scale, scale) for _ in range(nq)])
        if task.split("-")[0] in NORMAL_VELOCITY_NOISE:
            qvel = qvel + np.array([scale * s.normal() for _ in range(nv)])
        else:
            qvel = qvel + np.array([s.uniform(-scale, scale) for _ in range(nv)])
    base.set_state(qpos, qvel)
    return base._get_obs()


# ---------------------------------------------------------------------------------------------------


def parse_bool(text):
    t = text.strip().lower()
    if t in ("true", "1", "yes"):
        return True
    if t in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Run a SATR policy file (docs/POLICY_FORMAT.md) in the real Gymnasium and report its returns.")
    ap.add_argument("policy", help="policy.json / policy_best.json, or a `satr train` output directory")
    ap.add_argument("--episodes", type=int, default=10, help="number of episodes (default 10)")
    ap.add_argument("--seed", type=int, default=0,
                    help="S: episode e runs env.reset(seed=S+e) and the membrane of `satr eval --seed S` (default 0)")
    ap.add_argument("--reset-noise-scale", type=float, default=None,
                    help="Gymnasium's reset_noise_scale (default: the policy file's, else the v5 default)")
    ap.add_argument("--terminate-when-unhealthy", type=parse_bool, default=None,
                    help="true/false (default: the policy file's, else the v5 default)")
    ap.add_argument("--project-reset", action="store_true",
                    help="start each episode from the project's reset state for `satr eval --seed S` episode e "
                         "instead of Gymnasium's own reset noise")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.episodes < 1:
        ap.error("--episodes must be at least 1")
    if args.seed < 0 or args.seed >= 2 ** 64:
        ap.error("--seed must be in 0 ..< 2^64")

    self_test_seeds()
    import gymnasium
    import mujoco

    path, p, policy = load_policy(args.policy)
    task = p["task"]
    kwargs = {}
    noise = args.reset_noise_scale if args.reset_noise_scale is not None else p.get("reset_noise_scale")
    if noise is not None:
        kwargs["reset_noise_scale"] = float(noise)
    terminate = args.terminate_when_unhealthy if args.terminate_when_unhealthy is not None else p.get("terminate_when_unhealthy")
    if terminate is not None:
        kwargs["terminate_when_unhealthy"] = bool(terminate)
    for name in OBSERVATION_OPTIONS:  # they fix the policy's input: always the file's own
        if p.get(name) is not None:
            kwargs[name] = bool(p[name])
    env = gymnasium.make(task, **kwargs)
    obs_space, act_space = env.observation_space, env.action_space
    if obs_space.shape != (policy.D,) or act_space.shape != (policy.A,):
        raise SystemExit(f"gymnasium_check: {task} in Gymnasium has observation {obs_space.shape} and action "
                         f"{act_space.shape}; the policy has D = {policy.D}, A = {policy.A}")
    if not (np.allclose(act_space.low, policy.low) and np.allclose(act_space.high, policy.high)):
        raise SystemExit(f"gymnasium_check: action box differs: Gymnasium [{act_space.low}, {act_space.high}], "
                         f"policy [{policy.low}, {policy.high}]")
    scale = float(getattr(env.unwrapped, "_reset_noise_scale", kwargs.get("reset_noise_scale", 0.0)))

    returns, lengths = [], []
    started = time.time()
    for e in range(args.episodes):
        s_e, project_reset_seed = eval_seeds(args.seed, e)
        policy.reset(initial_membrane(s_e, policy.N))
        obs, _ = env.reset(seed=args.seed + e)
        if args.project_reset:
            obs = apply_project_reset(env, task, scale, project_reset_seed)
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(policy.act(obs))
            total += float(reward)
            steps += 1
            if terminated or truncated:
                break
        returns.append(total)
        lengths.append(steps)
        if not args.json:
            print(f"episode {e}: return {total:.3f}  length {steps}", flush=True)
    env.close()

    r = np.asarray(returns, np.float64)
    summary = {
        "policy": path,
        "task": task,
        "network": p["network"],
        "neurons": policy.N,
        "episodes": args.episodes,
        "seed": args.seed,
        "env_kwargs": kwargs,
        "reset_noise_scale": scale,
        "reset": "project" if args.project_reset else "gymnasium",
        "return_mean": float(r.mean()),
        "return_std": float(r.std()),  # population std, as `satr eval`
        "return_min": float(r.min()),
        "return_max": float(r.max()),
        "length_mean": float(np.mean(lengths)),
        "returns": returns,
        "lengths": lengths,
        "versions": {"gymnasium": gymnasium.__version__, "mujoco": mujoco.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "training": p.get("training"),
        "wall_s": round(time.time() - started, 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        v = summary["versions"]
        print(f"{task}, {p['network']} network N={policy.N}, {args.episodes} episodes (seed {args.seed}), "
              f"gymnasium {v['gymnasium']}, mujoco {v['mujoco']}, reset noise {summary['reset']} (scale {scale:g})"
              + (f", options {kwargs}" if kwargs else ""))
        print(f"return: mean {r.mean():.3f}  std {r.std():.3f}  min {r.min():.3f}  max {r.max():.3f}")
        print(f"episode length: mean {np.mean(lengths):.1f}  min {min(lengths)}  max {max(lengths)}")


if __name__ == "__main__":
    main()
