import ArgumentParser

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a policy (SATR, EC or ES).")

    func run() throws {
        throw NotYetAvailable(what: "satr train")
    }
}
