import ArgumentParser

struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env", abstract: "Benchmark environment stepping against raw physics.")

    func run() throws {
        throw NotYetAvailable(what: "satr env")
    }
}
