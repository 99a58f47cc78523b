import ArgumentParser

/// `satr`: train recurrent spiking policies with SATR, EC or Gaussian ES; evaluate, plot and
/// benchmark them.
@main
struct SATR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "satr",
        abstract: "Train bit-connectivity recurrent spiking policies on MuJoCo tasks without gradients.",
        subcommands: [
            Train.self, Eval.self, Export.self, Plot.self, Envs.self, Presets.self, Rollout.self, Bench.self, Raster.self, Render.self,
            Info.self,
        ])
}

/// `satr bench ...`: benchmarks that print ratios measured in one run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (release builds): each prints ratios measured in one run.",
        subcommands: [BenchNetwork.self, BenchEnv.self, BenchSearch.self, BenchTrain.self])
}
