import ArgumentParser

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plot", abstract: "Plot learning curves.")

    func run() throws {
        throw NotYetAvailable(what: "satr plot")
    }
}
