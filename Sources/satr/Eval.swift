import ArgumentParser

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a trained deterministic policy.")

    func run() throws {
        throw NotYetAvailable(what: "satr eval")
    }
}
