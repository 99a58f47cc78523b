import ArgumentParser

struct Envs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "envs", abstract: "List the tasks.")

    func run() throws {
        throw NotYetAvailable(what: "satr envs")
    }
}
