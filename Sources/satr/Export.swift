import ArgumentParser

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a trained policy.")

    func run() throws {
        throw NotYetAvailable(what: "satr export")
    }
}
