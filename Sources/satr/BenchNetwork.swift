import ArgumentParser

struct BenchNetwork: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "network", abstract: "Benchmark the spiking network kernels.")

    func run() throws {
        throw NotYetAvailable(what: "satr network")
    }
}
