import ArgumentParser

struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollout", abstract: "Replay actions in a task and write a trace.")

    func run() throws {
        throw NotYetAvailable(what: "satr rollout")
    }
}
