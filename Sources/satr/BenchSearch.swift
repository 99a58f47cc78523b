import ArgumentParser

struct BenchSearch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Benchmark the optimizers (no environment).")

    func run() throws {
        throw NotYetAvailable(what: "satr search")
    }
}
