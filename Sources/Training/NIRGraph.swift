import Environments
import Foundation
import Spiking

/// A value stored in a NIR file: a string, or an n-dimensional array (row-major) of Float64,
/// Float32 or Int64 values.
public enum NIRValue: Sendable, Equatable {
    case string(String)
    case float64(shape: [Int], values: [Double])
    case float32(shape: [Int], values: [Float])
    case int64(shape: [Int], values: [Int64])

    /// A one-dimensional Float64 array.
    public static func vector(_ values: [Double]) -> NIRValue { .float64(shape: [values.count], values: values) }
    /// A Float64 scalar (a zero-dimensional array).
    public static func scalar(_ value: Double) -> NIRValue { .float64(shape: [], values: [value]) }
}

/// One node of a NIR graph: its NIR type name (`"CubaLIF"`, `"Linear"`, ...), its parameters under
/// the names NIR's serialization uses, and optional metadata.
public struct NIRNode: Sendable, Equatable {
    public var name: String
    public var type: String
    public var parameters: [String: NIRValue]
    public var metadata: [String: NIRValue]

    public init(name: String, type: String, parameters: [String: NIRValue], metadata: [String: NIRValue] = [:]) {
        self.name = name
        self.type = type
        self.parameters = parameters
        self.metadata = metadata
    }
}

/// A NIR graph (Neuromorphic Intermediate Representation, NIR 1.0): nodes, directed edges
/// (source, target) and graph metadata. Edges into one node are summed at its input.
public struct NIRGraph: Sendable, Equatable {
    /// The NIR version whose file layout this follows.
    public static let nirVersion = "1.0.8"
    public var nodes: [NIRNode]
    public var edges: [(String, String)]
    public var metadata: [String: NIRValue]

    public static func == (a: NIRGraph, b: NIRGraph) -> Bool {
        a.nodes == b.nodes && a.metadata == b.metadata && a.edges.map { [$0.0, $0.1] } == b.edges.map { [$0.0, $0.1] }
    }
}

/// The bitset network of a policy as a NIR graph (docs/NIR.md).
///
/// Time is in seconds; `dt = 0.5 ms` and `T = 33` integration steps per observation are in the
/// metadata. With D, N, A, the signs `sigma_i = +1` (i < N_E) or `-1`, and the connection bits
/// (docs/POLICY_FORMAT.md):
///
/// ```
/// input [D] -> normalize (Affine: W = diag(1/std), b = -mean/std)
///           -> input_projection (Linear [N x D]: W[j, d] = R_in (K_in[d, j] - K_in[D+d, j]))
///           -> recurrent (CubaLIF [N]: tau_syn = 5 ms, tau_mem = 10 ms, R = 1, v_leak = 0,
///                         v_threshold = 1, v_reset = 0, w_in = 1)
/// recurrent -> recurrent_projection (Linear [N x N]: W[j, i] = tau_syn R_h sigma_i K_h[i, j]) -> recurrent
/// recurrent -> readout_projection (Linear [A x N]: W[a, j] = c R_out sigma_j K_out[j, a])
///           -> readout (LI [A]: tau = 10 ms, R = 1, v_leak = 0) -> output [A]
/// ```
///
/// with `c = tau_out (1 - exp(-dt / tau_out)) / dt_ms = 0.000975412` (tau_out = 0.01 s, dt_ms = 0.5,
/// the project's rate trace counting spikes per millisecond), which makes a Dirac spike of unit
/// area move the leaky integrator, `R W / tau_out`, by exactly the project's readout step
/// `R_out (1 - a_out) / dt_ms`.
/// Spikes are Dirac impulses of unit area, so a spike through weight W moves a CubaLIF's current
/// by `w_in W / tau_syn` (= `R_h sigma_i` here). The [x, -x] input construction is folded into
/// `input_projection`.
public enum NIRExport {
    /// The NIR graph of a bitset policy.
    ///
    /// - Throws: `PolicyError` for a dense policy or a malformed file.
    public static func graph(policy: PolicyFile) throws -> NIRGraph {
        let shape = try policy.networkShape()
        let words = try policy.connectivityWords()
        guard words.count == shape.wordsPerMember else {
            throw PolicyError(description: "\(words.count) connectivity words, the shape needs \(shape.wordsPerMember)")
        }
        let d = shape.observationSize, n = shape.neurons, a = shape.actionSize, nE = shape.excitatoryNeurons
        func bit(_ p: Int) -> Bool { (words[p >> 6] >> UInt64(p & 63)) & 1 == 1 }
        func sign(_ i: Int) -> Double { i < nE ? 1 : -1 }

        let seconds = 1e-3
        let dt = Double(NetworkConstants.dt) * seconds
        let tauSyn = NetworkConstants.tauSynapse * seconds
        let tauMem = NetworkConstants.tauMembrane * seconds
        let tauOut = NetworkConstants.tauOut * seconds
        let rIn = Double(NetworkConstants.inputScale(observationSize: d))
        let rH = Double(NetworkConstants.recurrentScale(neurons: n))
        let rOut = Double(NetworkConstants.readoutScale(neurons: n))
        // The project's rate trace counts spikes per millisecond (r += (1 - a_out) s / dt with dt =
        // 0.5 in ms), so c carries dt in ms while tau_out is in seconds.
        let readoutFactor = tauOut * (1 - Double(NetworkConstants.alphaOut)) / Double(NetworkConstants.dt)

        // Normalization x = (obs - mean) / std as an affine map.
        var normWeight = [Double](repeating: 0, count: d * d)
        for k in 0..<d { normWeight[k * d + k] = 1 / policy.normalizer.std[k] }
        let normBias = (0..<d).map { -policy.normalizer.mean[$0] / policy.normalizer.std[$0] }

        var inputWeight = [Double](repeating: 0, count: n * d)
        for j in 0..<n {
            for k in 0..<d {
                let s = (bit(shape.inputBit(row: k, post: j)) ? 1.0 : 0) - (bit(shape.inputBit(row: d + k, post: j)) ? 1.0 : 0)
                inputWeight[j * d + k] = rIn * s
            }
        }
        var recurrentWeight = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for i in 0..<n where bit(shape.recurrentBit(pre: i, post: j)) { recurrentWeight[j * n + i] = tauSyn * rH * sign(i) }
        }
        var readoutWeight = [Double](repeating: 0, count: a * n)
        for act in 0..<a {
            for j in 0..<n where bit(shape.readoutBit(neuron: j, action: act)) { readoutWeight[act * n + j] = readoutFactor * rOut * sign(j) }
        }
        func filled(_ v: Double, _ count: Int) -> NIRValue { .vector([Double](repeating: v, count: count)) }

        let nodes = [
            NIRNode(name: "input", type: "Input", parameters: ["shape": .int64(shape: [1], values: [Int64(d)])]),
            NIRNode(name: "normalize", type: "Affine",
                    parameters: ["weight": .float64(shape: [d, d], values: normWeight), "bias": .vector(normBias)],
                    metadata: ["description": .string("observation normalization x = (obs - mean) / std; the project computes it in Float64 and rounds x to Float32")]),
            NIRNode(name: "input_projection", type: "Linear",
                    parameters: ["weight": .float64(shape: [n, d], values: inputWeight)],
                    metadata: ["description": .string("R_in (K_in[d, j] - K_in[D+d, j]): the [x, -x] rows folded in. The project adds this current to the membrane directly, held for the T substeps of an observation; NIR's CubaLIF filters it through the synapse (docs/NIR.md: the one approximate part of the mapping)"),
                               "R_in": .scalar(rIn)]),
            NIRNode(name: "recurrent", type: "CubaLIF",
                    parameters: [
                        "tau_syn": filled(tauSyn, n), "tau_mem": filled(tauMem, n), "r": filled(1, n),
                        "v_leak": filled(0, n), "v_threshold": filled(Double(NetworkConstants.thresholdVoltage), n),
                        "v_reset": filled(Double(NetworkConstants.resetVoltage), n), "w_in": filled(1, n),
                    ],
                    metadata: ["excitatory_neurons": .int64(shape: [], values: [Int64(nE)]),
                               "initial_v": .string("v ~ Uniform[0, 1) per episode (RSNN.md), I = 0")]),
            NIRNode(name: "recurrent_projection", type: "Linear",
                    parameters: ["weight": .float64(shape: [n, n], values: recurrentWeight)],
                    metadata: ["description": .string("tau_syn R_h sigma_i K_h[i, j]; a spike moves the synaptic current by R_h sigma_i, delivered one step (dt) later"),
                               "R_h": .scalar(rH)]),
            NIRNode(name: "readout_projection", type: "Linear",
                    parameters: ["weight": .float64(shape: [a, n], values: readoutWeight)],
                    metadata: ["description": .string("c R_out sigma_j K_out[j, a], c = tau_out (1 - exp(-dt/tau_out)) / dt_ms: the project's rate trace counts spikes per millisecond"),
                               "R_out": .scalar(rOut), "c": .scalar(readoutFactor)]),
            NIRNode(name: "readout", type: "LI",
                    parameters: ["tau": filled(tauOut, a), "r": filled(1, a), "v_leak": filled(0, a)]),
            NIRNode(name: "output", type: "Output", parameters: ["shape": .int64(shape: [1], values: [Int64(a)])]),
        ]
        let edges = [
            ("input", "normalize"), ("normalize", "input_projection"), ("input_projection", "recurrent"),
            ("recurrent", "recurrent_projection"), ("recurrent_projection", "recurrent"),
            ("recurrent", "readout_projection"), ("readout_projection", "readout"), ("readout", "output"),
        ]
        var metadata: [String: NIRValue] = [
            "producer": .string("satr (SATR for Swift)"),
            "task": .string(policy.task),
            "dt": .scalar(dt),
            "substeps_per_observation": .int64(shape: [], values: [Int64(NetworkConstants.substepsPerEnvStep)]),
            "time_unit": .string("second"),
            "spike_convention": .string("Dirac impulses of unit area; exponential-Euler (zero-order hold) integration with step dt; recurrent edges deliver one step later"),
            "output_sampling": .string("y = readout state after the last of the T steps of an observation; action = center + half_width * clip(y, -1, 1)"),
            "action_low": .vector(policy.actionLow),
            "action_high": .vector(policy.actionHigh),
            "documentation": .string("docs/NIR.md"),
        ]
        let observationOptions = policy.environmentOptions.observationOptions.assignments
        if !observationOptions.isEmpty {
            // The Gymnasium constructor arguments the input layer was trained on (NAME=VALUE).
            metadata["observation_options"] = .string(observationOptions.joined(separator: ","))
        }
        return NIRGraph(nodes: nodes, edges: edges, metadata: metadata)
    }
}
