import ArgumentParser

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Benchmark the training loop against raw environment stepping.")

    func run() throws {
        throw NotYetAvailable(what: "satr train")
    }
}
