import ArgumentParser
import Search
import Training

/// The flags of the algorithms' hyperparameters, one group per algorithm. Each flag is a config
/// key; its default and meaning live in the algorithm's `Hyperparameters` type (docs/SEARCH.md),
/// and `TrainingConfig.resolve` refuses a key of another algorithm than the chosen one.

/// SATR's flags.
struct SATROptions: ParsableArguments {
    @Option(help: "SATR: kappa, the per-parameter KL budget at full signal (default \(SATRStrategy.Hyperparameters().trustRadius)).")
    var trustRadius: Double?
    @Option(help: "SATR: the largest step size eta (default \(SATRStrategy.Hyperparameters().etaMax)).")
    var etaMax: Double?
    @Option(help: "SATR: beta, the EMA / evolution-path factor of the signal estimator (default \(SATRStrategy.Hyperparameters().momentum)).")
    var momentum: Double?
    @Option(help: "SATR: signal estimator: \(SignalEstimator.allCases.map(\.rawValue).joined(separator: ", ")) (default lag1).")
    var signalEstimator: SignalEstimator?
    @Option(help: "SATR: beta_d, average the step direction over generations (0 = this generation's gradient; default 0).")
    var directionMomentum: Double?
    @Option(help: "SATR: one trust region per block (input, recurrent, readout connections), true or false (default false).")
    var blockwise: Bool?

    var patch: [String: JSONTree] {
        var p: [String: JSONTree] = [:]
        p["trust_radius"] = trustRadius.map(JSONTree.double)
        p["eta_max"] = etaMax.map(JSONTree.double)
        p["momentum"] = momentum.map(JSONTree.double)
        p["signal_estimator"] = signalEstimator.map { .string($0.rawValue) }
        p["direction_momentum"] = directionMomentum.map(JSONTree.double)
        p["blockwise"] = blockwise.map(JSONTree.bool)
        return p
    }
}

/// Flags shared by SATR and EC (the Bernoulli search distribution).
struct BernoulliOptions: ParsableArguments {
    @Option(help: "SATR, EC: mirrored pairs, true or false (members 2p, 2p+1 share uniforms; default false).")
    var mirrored: Bool?

    var patch: [String: JSONTree] {
        var p: [String: JSONTree] = [:]
        p["mirrored"] = mirrored.map(JSONTree.bool)
        return p
    }
}

/// Flags of the Adam-based baselines, EC and ES.
struct AdamOptions: ParsableArguments {
    @Option(help: "EC, ES: Adam / AdamW learning rate (default \(ECStrategy.Hyperparameters().learningRate)).")
    var learningRate: Double?
    @Option(help: "ES: perturbation scale sigma (default \(GaussianESStrategy.Hyperparameters().sigma)).")
    var sigma: Double?
    @Option(help: "ES: AdamW weight decay (default \(GaussianESStrategy.Hyperparameters().weightDecay)).")
    var weightDecay: Double?

    var patch: [String: JSONTree] {
        var p: [String: JSONTree] = [:]
        p["learning_rate"] = learningRate.map(JSONTree.double)
        p["sigma"] = sigma.map(JSONTree.double)
        p["weight_decay"] = weightDecay.map(JSONTree.double)
        return p
    }
}

extension SignalEstimator: ExpressibleByArgument {}
extension Algorithm: ExpressibleByArgument {}
