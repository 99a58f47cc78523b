import ArgumentParser
import Foundation
import Training

/// `satr presets [TASK --algo A]`: the tasks with a preset, or one preset as the config layer
/// `satr train --env TASK --algo A` lays over the defaults.
struct Presets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the per-task presets, or print one as the config keys it sets.",
        discussion: "Presets live in Sources/Training/Presets/<task>.json; docs/PRESETS.md says what measured each one.")

    @Argument(help: "A task id; omit it to list the tasks that have a preset.")
    var task: String?
    @Option(help: "The algorithm whose section to merge with the common one (default satr).")
    var algo: Algorithm = .satr

    func run() throws {
        guard let task else {
            for name in TaskPreset.tasks { print(name) }
            return
        }
        do {
            guard let layer = try TaskPreset.layer(task: task, algo: algo) else {
                throw CLIError(message: "\(task) has no preset; tasks with one: \(TaskPreset.tasks.joined(separator: ", "))")
            }
            let data = try JSONCoding.encoder(pretty: true).encode(JSONTree.object(layer))
            print(String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError(error)
        }
    }
}
