#!/usr/bin/env python3
"""Cross-check of `satr export --format nir` (run by scripts/test-nir.sh).

1. The file loads with the `nir` package (with its type check) and holds the expected node types,
   shapes and edges.
2. A small simulator of the NIR graph's semantics, written here with numpy and independent of the
   Swift code, replays the raw observations that `satr raster --json` recorded and reproduces the
   project's spikes and actions:
   - "direct input" mode: the graph's semantics with the one documented approximation removed (the
     input projection's current enters the membrane directly, as the project's network does; see
     docs/NIR.md). This must reproduce every spike of every substep and every action (up to the
     Float32 rounding of the project's arithmetic: |dy| <= 1e-4).
   - "strict NIR" mode: NIR's CubaLIF, where every input passes the synaptic filter. The spike
     trains then differ; the test measures the action error and the spike-count agreement and
     checks them against the tolerance stated in docs/NIR.md.

Discretization (docs/NIR.md): step dt from the graph metadata, T steps per observation (held
constant); exponential Euler (zero-order hold) for every leaky state; spikes are Dirac impulses of
unit area, so a spike through weight W moves a CubaLIF's current by w_in W / tau_syn and an LI's
state by R W / tau; an edge that closes a cycle (the recurrent projection) delivers one step later.
"""
import argparse
import json
import sys

import numpy as np
import nir


def check_structure(graph, trace):
    d = len(trace["observations"][0])
    n = trace["neurons"]
    a = len(trace["actions"][0])
    expected = {
        "input": ("Input", None),
        "normalize": ("Affine", (d, d)),
        "input_projection": ("Linear", (n, d)),
        "recurrent": ("CubaLIF", (n,)),
        "recurrent_projection": ("Linear", (n, n)),
        "readout_projection": ("Linear", (a, n)),
        "readout": ("LI", (a,)),
        "output": ("Output", None),
    }
    assert set(graph.nodes) == set(expected), f"nodes {sorted(graph.nodes)}"
    for name, (kind, shape) in expected.items():
        node = graph.nodes[name]
        assert type(node).__name__ == kind, f"{name} is {type(node).__name__}, expected {kind}"
        if kind in ("Affine", "Linear"):
            assert node.weight.shape == shape, f"{name} weight {node.weight.shape}, expected {shape}"
        elif kind == "CubaLIF":
            for p in ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"):
                assert getattr(node, p).shape == shape, f"{name}.{p} {getattr(node, p).shape}"
        elif kind == "LI":
            assert node.tau.shape == shape
    assert list(graph.nodes["input"].input_type["input"]) == [d]
    assert list(graph.nodes["output"].output_type["output"]) == [a]
    edges = set(map(tuple, graph.edges))
    expected_edges = {
        ("input", "normalize"), ("normalize", "input_projection"), ("input_projection", "recurrent"),
        ("recurrent", "recurrent_projection"), ("recurrent_projection", "recurrent"),
        ("recurrent", "readout_projection"), ("readout_projection", "readout"), ("readout", "output"),
    }
    assert edges == expected_edges, f"edges {sorted(edges)}"
    # Weight structure: input/recurrent/readout weights take one magnitude each (bits times a scale).
    lif = graph.nodes["recurrent"]
    assert np.all(lif.v_threshold == 1) and np.all(lif.v_reset == 0) and np.all(lif.v_leak == 0)
    rec = graph.nodes["recurrent_projection"].weight
    ne = trace["excitatory_neurons"]
    assert np.all(rec[:, :ne] >= 0) and np.all(rec[:, ne:] <= 0), "Dale's law: excitatory columns >= 0, inhibitory <= 0"
    print(f"structure: {len(graph.nodes)} nodes, {len(graph.edges)} edges, D={d} N={n} A={a}, "
          f"{int(np.count_nonzero(rec))} recurrent connections")


class Simulator:
    """Discrete-time simulator of the NIR graph (see the module docstring)."""

    def __init__(self, graph, direct_input):
        self.g = graph
        self.direct_input = direct_input
        md = graph.metadata
        self.dt = float(md["dt"])
        self.steps = int(md["substeps_per_observation"])
        self.low = np.asarray(md["action_low"], dtype=np.float64)
        self.high = np.asarray(md["action_high"], dtype=np.float64)
        self.order, self.delayed = self._schedule()
        self.spiking = {k for k, v in graph.nodes.items() if isinstance(v, nir.CubaLIF)}

    def _schedule(self):
        """Topological order from the input; edges closing a cycle are delayed by one step."""
        succ = {}
        for s, t in self.g.edges:
            succ.setdefault(s, []).append(t)
        delayed, state, post = set(), {}, []

        def visit(u):
            state[u] = 1
            for v in succ.get(u, []):
                if state.get(v) == 1:
                    delayed.add((u, v))
                elif v not in state:
                    visit(v)
            state[u] = 2
            post.append(u)

        visit("input")
        return list(reversed(post)), delayed

    def reset(self, v0):
        self.state = {}
        for name, node in self.g.nodes.items():
            if isinstance(node, nir.CubaLIF):
                self.state[name] = {"I": np.zeros(len(v0)), "v": np.asarray(v0, dtype=np.float64), "z": np.zeros(len(v0))}
            elif isinstance(node, nir.LI):
                self.state[name] = {"v": np.zeros(node.tau.shape)}
        self.last = {}

    def observe(self, obs):
        """Runs the T steps of one observation; returns (spikes per step of the CubaLIF, y)."""
        spikes = []
        for _ in range(self.steps):
            out = {}  # node -> (value, is_impulse)
            for name in self.order:
                node = self.g.nodes[name]
                cont, imp, any_impulse = 0.0, 0.0, False
                for s, t in self.g.edges:
                    if t != name:
                        continue
                    # A delayed (cycle-closing) edge carries the source's value of the previous step.
                    value, impulse = self.last.get(s, (None, False)) if (s, t) in self.delayed else out[s]
                    if value is None:
                        continue
                    any_impulse = any_impulse or impulse
                    if impulse:
                        imp = imp + value
                    else:
                        cont = cont + value
                if isinstance(node, nir.Input):
                    out[name] = (np.asarray(obs, dtype=np.float64), False)
                elif isinstance(node, nir.Affine):
                    out[name] = (node.weight @ cont + node.bias, False)
                elif isinstance(node, nir.Linear):
                    # Linear maps impulses to impulses and currents to currents.
                    out[name] = (node.weight @ (imp if any_impulse else cont), any_impulse)
                elif isinstance(node, nir.CubaLIF):
                    st = self.state[name]
                    a_syn = np.exp(-self.dt / node.tau_syn)
                    a_mem = np.exp(-self.dt / node.tau_mem)
                    jump = node.w_in / node.tau_syn * imp
                    if self.direct_input:
                        st["I"] = a_syn * st["I"] + jump
                        drive = node.r * (st["I"] + cont)
                    else:
                        st["I"] = a_syn * st["I"] + (1 - a_syn) * node.w_in * cont + jump
                        drive = node.r * st["I"]
                    st["v"] = a_mem * st["v"] + (1 - a_mem) * (node.v_leak + drive)
                    z = st["v"] > node.v_threshold
                    st["v"] = np.where(z, node.v_reset, st["v"])
                    st["z"] = z.astype(np.float64)
                    out[name] = (st["z"], True)
                    spikes.append(np.flatnonzero(z))
                elif isinstance(node, nir.LI):
                    st = self.state[name]
                    a = np.exp(-self.dt / node.tau)
                    st["v"] = a * st["v"] + (1 - a) * (node.v_leak + node.r * cont) + node.r / node.tau * imp
                    out[name] = (st["v"], False)
                elif isinstance(node, nir.Output):
                    out[name] = (cont, False)
                else:
                    raise ValueError(f"node type {type(node).__name__} is not simulated")
            self.last = out
        y = self.last["output"][0]
        center, half = (self.high + self.low) / 2, (self.high - self.low) / 2
        action = center + half * np.clip(y, -1, 1)
        return spikes, y, action


def replay(graph, trace, direct_input):
    sim = Simulator(graph, direct_input)
    assert sim.steps == trace["substeps"]
    sim.reset(trace["initial_membrane"])
    first_mismatch, mismatched_substeps, ys, actions, counts = None, 0, [], [], []
    for k, obs in enumerate(trace["observations"]):
        spikes, y, action = sim.observe(obs)
        ys.append(y)
        actions.append(action)
        counts.append((sum(len(s) for s in spikes), sum(len(s) for s in trace["spikes"][k])))
        for t, fired in enumerate(spikes):
            if list(fired) != trace["spikes"][k][t]:
                mismatched_substeps += 1
                if first_mismatch is None:
                    first_mismatch = (k, t)
    return first_mismatch, mismatched_substeps, np.array(ys), np.array(actions), np.array(counts)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nir", required=True)
    p.add_argument("--trace", required=True)
    p.add_argument("--strict-action-tolerance", type=float, required=True,
                   help="max allowed mean |action difference| / action range in strict NIR mode (docs/NIR.md)")
    args = p.parse_args()
    graph = nir.read(args.nir)
    print(f"nir.read: {type(graph).__name__} with nodes " + ", ".join(f"{k}:{type(v).__name__}" for k, v in graph.nodes.items()))
    trace = json.load(open(args.trace))
    check_structure(graph, trace)
    want_y = np.array(trace["outputs"], dtype=np.float64)
    want_actions = np.array(trace["actions"], dtype=np.float64)
    steps = len(trace["observations"])
    total_spikes = sum(len(s) for step in trace["spikes"] for s in step)
    assert total_spikes > 0, "the recorded episode has no spikes; nothing to compare"

    first, bad, ys, actions, _ = replay(graph, trace, direct_input=True)
    dy = float(np.max(np.abs(ys - want_y)))
    print(f"direct-input mode: {steps} steps x {trace['substeps']} substeps, {total_spikes} spikes; "
          f"mismatched substeps {bad}; max |dy| {dy:.3g}; max |d action| {float(np.max(np.abs(actions - want_actions))):.3g}")
    assert bad == 0, f"spikes differ first at step {first[0]} substep {first[1]}"
    assert dy <= 1e-4, f"y differs by {dy}"

    first, bad, ys, actions, counts = replay(graph, trace, direct_input=False)
    span = want_actions.max(axis=0) - want_actions.min(axis=0)
    span[span == 0] = 1
    rel = float(np.mean(np.abs(actions - want_actions) / span))
    corr = float(np.corrcoef(counts[:, 0], counts[:, 1])[0, 1]) if np.std(counts[:, 0]) > 0 and np.std(counts[:, 1]) > 0 else float("nan")
    print(f"strict NIR mode: first spike difference at step {first[0] if first else None}; "
          f"{bad}/{steps * trace['substeps']} substeps differ; mean |d action| / action range {rel:.4f}; "
          f"spikes per step: NIR {counts[:, 0].mean():.1f} vs project {counts[:, 1].mean():.1f} (correlation {corr:.3f})")
    assert rel <= args.strict_action_tolerance, f"strict-mode action error {rel:.4f} > {args.strict_action_tolerance}"
    print("NIR cross-check passed")


if __name__ == "__main__":
    sys.exit(main())
