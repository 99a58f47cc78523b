import CKernels

/// The sizes and the weight layout of the dense-weight baseline network (docs/NETWORK.md, "The
/// DenseSNN baseline").
///
/// With D = `observationSize`, A = `actionSize`, N = `neurons`, one member's real-valued weights
/// are `parameterCount` = D*N + N*N + N*A Float32 values in one flat array:
/// 1. W_in, D x N row-major: W_in[d, j] at `d * N + j` (`inputWeightIndex(input:post:)`);
/// 2. W_h, N x N `[pre, post]` row-major: W_h[i, j] at `D*N + i * N + j` (`recurrentWeightIndex(pre:post:)`);
/// 3. W_out, stored action-major: W_out[j, a] at `D*N + N*N + a * N + j` (`readoutWeightIndex(neuron:action:)`).
public struct DenseSNNShape: Sendable, Codable, Hashable, CustomStringConvertible {
    /// D: the observation length (no `[x, -x]` doubling in this network).
    public let observationSize: Int
    /// A: the action length.
    public let actionSize: Int
    /// N: the number of recurrent neurons (any positive number).
    public let neurons: Int

    /// Errors of `DenseSNNShape.init`.
    public enum ShapeError: Error, Equatable, CustomStringConvertible {
        case notPositive(name: String, value: Int)
        public var description: String {
            switch self {
            case .notPositive(let name, let value): return "\(name) must be positive (got \(value))"
            }
        }
    }

    /// - Throws: `ShapeError` unless D, A and N are positive.
    public init(observationSize: Int, actionSize: Int, neurons: Int = 256) throws {
        guard observationSize > 0 else { throw ShapeError.notPositive(name: "observation size", value: observationSize) }
        guard actionSize > 0 else { throw ShapeError.notPositive(name: "action size", value: actionSize) }
        guard neurons > 0 else { throw ShapeError.notPositive(name: "neurons", value: neurons) }
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.neurons = neurons
    }

    private enum CodingKeys: String, CodingKey { case observationSize, actionSize, neurons }

    /// Decodes and validates a shape.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            observationSize: c.decode(Int.self, forKey: .observationSize),
            actionSize: c.decode(Int.self, forKey: .actionSize),
            neurons: c.decode(Int.self, forKey: .neurons))
    }

    public var description: String { "DenseSNNShape(D: \(observationSize), A: \(actionSize), N: \(neurons))" }

    /// D*N + N*N + N*A real-valued weights.
    @inlinable public var parameterCount: Int {
        observationSize * neurons + neurons * neurons + neurons * actionSize
    }
    /// Index of the first W_in weight: 0.
    @inlinable public var inputWeightOffset: Int { 0 }
    /// Index of the first W_h weight: D*N.
    @inlinable public var recurrentWeightOffset: Int { observationSize * neurons }
    /// Index of the first W_out weight: D*N + N*N.
    @inlinable public var readoutWeightOffset: Int { observationSize * neurons + neurons * neurons }
    /// Index of W_in[input, post]: `input * N + post`.
    @inlinable public func inputWeightIndex(input: Int, post: Int) -> Int { input * neurons + post }
    /// Index of W_h[pre, post]: `D*N + pre * N + post`.
    @inlinable public func recurrentWeightIndex(pre: Int, post: Int) -> Int { recurrentWeightOffset + pre * neurons + post }
    /// Index of W_out[neuron, action]: `D*N + N*N + action * N + neuron`.
    @inlinable public func readoutWeightIndex(neuron: Int, action: Int) -> Int { readoutWeightOffset + action * neurons + neuron }

    /// The initial membrane potentials of one member, drawn exactly as
    /// `NetworkShape.initialMembrane(seed:generation:member:)` does (N values, Uniform[V_r, V_th)).
    public func initialMembrane(seed: UInt64, generation: Int, member: Int) -> [Float] {
        var values = [Float](repeating: 0, count: neurons)
        values.withUnsafeMutableBufferPointer {
            NetworkConstants.writeInitialMembrane(into: $0, seed: seed, generation: generation, member: member)
        }
        return values
    }

    /// R_in = sqrt(2 / D).
    public var inputScale: Float { Float((2.0 / Double(observationSize)).squareRoot()) }
    /// R_h = 2 * sqrt(2 / N) (0.1767767 for N = 256).
    public var recurrentScale: Float { Float(2.0 * (2.0 / Double(neurons)).squareRoot()) }
    /// R_out = 5 / sqrt(N) (0.3125 for N = 256).
    public var readoutScale: Float { Float(5.0 / Double(neurons).squareRoot()) }
}

/// The dense-weight baseline network (docs/NETWORK.md, "The DenseSNN baseline"): the LIF dynamics
/// and constants of the bit network (`NetworkConstants`, T = 33 substeps), with real-valued weights, no `[x, -x]`
/// doubling and no E/I split (spikes are 0 or 1, the weight carries the sign):
///
///     i_in[j]  = R_in * sum_d x_d * W_in[d, j]                       (once per env step)
///     T times: i_syn[j] = alpha_syn * i_syn[j] + R_h * sum_i s_i * W_h[i, j]
///              v[j] = alpha_m * v[j] + (1 - alpha_m) * (V_r + i_syn[j] + i_in[j])
///              s[j] = (v[j] > V_th) ? 1 : 0;  v[j] = V_r where s[j] = 1
///              r[j] = alpha_out * r[j] + (1 - alpha_out) * s[j] / dt
///     y[a] = R_out * sum_j r[j] * W_out[j, a]
///
/// The recurrent term is a dense Float32 mat-vec (every W_h row, spiking or not), register-blocked
/// over 64 post neurons at a time with 16-lane SIMD vectors. Weights are in the layout of
/// `DenseSNNShape`; `load(weights:)`, `reset(initialMembrane:)` and `step(observation:output:)`
/// allocate nothing.
public struct DenseSNN: Sendable {
    public let shape: DenseSNNShape
    /// The flat weights (layout of `DenseSNNShape`).
    public private(set) var weights: [Float]
    /// v (N).
    public private(set) var membrane: [Float]
    /// i_syn (N).
    public private(set) var synapticCurrent: [Float]
    /// r (N).
    public private(set) var rateTrace: [Float]
    /// s: the last substep's spikes (N values in {0, 1}).
    public private(set) var spikes: [Float]
    /// i_in of the last environment step (N).
    public private(set) var inputCurrent: [Float]
    private var recurrentSum: [Float]
    /// The number of spikes in the last environment step.
    public private(set) var lastStepSpikeCount: Int = 0

    /// A network with all weights and state zero.
    public init(shape: DenseSNNShape) {
        self.shape = shape
        weights = [Float](repeating: 0, count: shape.parameterCount)
        membrane = [Float](repeating: 0, count: shape.neurons)
        synapticCurrent = membrane
        rateTrace = membrane
        spikes = membrane
        inputCurrent = membrane
        recurrentSum = membrane
    }

    /// Binds one member's weights (`shape.parameterCount` values).
    public mutating func load(weights newWeights: UnsafeBufferPointer<Float>) {
        precondition(newWeights.count == shape.parameterCount,
                     "expected \(shape.parameterCount) weights, got \(newWeights.count)")
        weights.withUnsafeMutableBufferPointer { w in
            _ = w.initialize(from: newWeights)
        }
    }

    /// Binds one member's weights (`shape.parameterCount` values).
    public mutating func load(weights newWeights: [Float]) {
        newWeights.withUnsafeBufferPointer { load(weights: $0) }
    }

    /// Starts an episode: v = `initialMembrane` (N values), i_syn = r = s = 0.
    public mutating func reset(initialMembrane: UnsafeBufferPointer<Float>) {
        precondition(initialMembrane.count == shape.neurons, "expected \(shape.neurons) membrane values")
        for j in 0..<shape.neurons {
            membrane[j] = initialMembrane[j]
            synapticCurrent[j] = 0
            rateTrace[j] = 0
            spikes[j] = 0
            inputCurrent[j] = 0
        }
        lastStepSpikeCount = 0
    }

    /// Starts an episode: v = `initialMembrane` (N values), i_syn = r = s = 0.
    public mutating func reset(initialMembrane: [Float]) {
        initialMembrane.withUnsafeBufferPointer { reset(initialMembrane: $0) }
    }

    /// One environment step: writes y (before the clip, A values) for the observation x (D values).
    public mutating func step(observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        let d = shape.observationSize, a = shape.actionSize
        precondition(observation.count == d && output.count == a,
                     "expected \(d) observation and \(a) output values")
        guard let x = observation.baseAddress, let y = output.baseAddress else { return }
        let shape = self.shape
        var count = 0
        weights.withUnsafeBufferPointer { wb in
        membrane.withUnsafeMutableBufferPointer { vb in
        synapticCurrent.withUnsafeMutableBufferPointer { ib in
        rateTrace.withUnsafeMutableBufferPointer { rb in
        spikes.withUnsafeMutableBufferPointer { sb in
        inputCurrent.withUnsafeMutableBufferPointer { inb in
        recurrentSum.withUnsafeMutableBufferPointer { accb in
            guard let w = wb.baseAddress, let v = vb.baseAddress, let iSyn = ib.baseAddress,
                  let r = rb.baseAddress, let s = sb.baseAddress, let iIn = inb.baseAddress,
                  let acc = accb.baseAddress else { return }
            count = DenseSNNKernel.envStep(
                shape: shape, weights: w, membrane: v, synapticCurrent: iSyn, rateTrace: r, spikes: s,
                inputCurrent: iIn, recurrentSum: acc, observation: x, output: y)
        }}}}}}}
        lastStepSpikeCount = count
    }

    /// One environment step: returns y (before the clip) for the observation x.
    public mutating func step(observation: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: shape.actionSize)
        observation.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in step(observation: x, output: y) }
        }
        return output
    }
}

enum DenseSNNKernel {
    typealias Vec = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vec {
        UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
    }

    @inline(__always)
    static func store(_ value: Vec, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, as: Vec.self)
    }

    /// out[j] = sum_r coefficient[r] * matrix[r * n + j] for j in 0 ..< n, r in 0 ..< rows
    /// (rows summed in order), register-blocked over 64 columns: `satr_vector_times_matrix` in the
    /// C kernels, compiled per CPU level and chosen at start (docs/PERFORMANCE.md, "Runtime
    /// dispatch"); the same sums on every level.
    static func vectorTimesMatrix(
        _ coefficient: UnsafePointer<Float>, rows: Int, matrix: UnsafePointer<Float>, n: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        satr_vector_times_matrix(coefficient, Int64(rows), matrix, Int64(n), out)
    }

    static func envStep(
        shape: DenseSNNShape, weights w: UnsafePointer<Float>, membrane v: UnsafeMutablePointer<Float>,
        synapticCurrent iSyn: UnsafeMutablePointer<Float>, rateTrace r: UnsafeMutablePointer<Float>,
        spikes s: UnsafeMutablePointer<Float>, inputCurrent iIn: UnsafeMutablePointer<Float>,
        recurrentSum acc: UnsafeMutablePointer<Float>, observation x: UnsafePointer<Float>,
        output y: UnsafeMutablePointer<Float>
    ) -> Int {
        let n = shape.neurons, d = shape.observationSize
        let rIn = shape.inputScale, rH = shape.recurrentScale, rOut = shape.readoutScale
        vectorTimesMatrix(x, rows: d, matrix: w + shape.inputWeightOffset, n: n, out: iIn)
        for j in 0..<n { iIn[j] = NetworkConstants.flushSubnormal(rIn * iIn[j]) }

        let alphaSyn = NetworkConstants.alphaSynapse
        let alphaM = NetworkConstants.alphaMembrane
        let oneMinusAlphaM = 1 - NetworkConstants.alphaMembrane
        let alphaOut = NetworkConstants.alphaOut
        let increment = (1 - NetworkConstants.alphaOut) / NetworkConstants.dt
        let vTh = NetworkConstants.thresholdVoltage, vR = NetworkConstants.resetVoltage
        let wH = w + shape.recurrentWeightOffset
        var count = 0
        for _ in 0..<NetworkConstants.substepsPerEnvStep {
            vectorTimesMatrix(s, rows: n, matrix: wH, n: n, out: acc)
            var fired = 0
            for j in 0..<n {
                let current = NetworkConstants.flushSubnormal(alphaSyn * iSyn[j] + rH * acc[j])
                iSyn[j] = current
                let potential = alphaM * v[j] + oneMinusAlphaM * (vR + current + iIn[j])
                let spike = potential > vTh
                v[j] = NetworkConstants.flushSubnormal(spike ? vR : potential)
                s[j] = spike ? 1 : 0
                r[j] = NetworkConstants.flushSubnormal(alphaOut * r[j] + (spike ? increment : 0))
                fired &+= spike ? 1 : 0
            }
            count += fired
        }

        let wOut = w + shape.readoutWeightOffset
        for action in 0..<shape.actionSize {
            let row = wOut + action * n
            var j = 0
            var partial = Vec()
            while j + 16 <= n {
                partial = partial + load(r + j) * load(row + j)
                j += 16
            }
            var sum = partial.sum()
            while j < n { sum = sum + r[j] * row[j]; j += 1 }
            y[action] = rOut * sum
        }
        return count
    }
}
