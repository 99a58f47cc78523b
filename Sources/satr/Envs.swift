import ArgumentParser
import Environments
import Foundation
import Training

/// `satr envs`: the task registry.
struct Envs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envs",
        abstract: "List the tasks: id, observation and action sizes, action box, dt.")

    @Flag(name: .long, help: "Print JSON (one object per task) instead of a table.")
    var json = false

    func run() throws {
        if json {
            let encoder = JSONCoding.encoder()
            for spec in TaskRegistry.all {
                print(String(decoding: try encoder.encode(spec), as: UTF8.self))
            }
            return
        }
        let header = ["id", "obs", "act", "action box", "dt", "frame_skip", "reset noise", "options"]
        var rows = [header]
        for spec in TaskRegistry.all {
            let low = spec.actionLow.first ?? 0, high = spec.actionHigh.first ?? 0
            let uniform = spec.actionLow.allSatisfy { $0 == low } && spec.actionHigh.allSatisfy { $0 == high }
            let box = uniform ? "[\(low), \(high)]" : "per component"
            rows.append([
                spec.id, "\(spec.observationSize)", "\(spec.actionSize)", box, "\(spec.dt)", "\(spec.frameSkip)",
                "\(spec.defaultResetNoiseScale)", spec.defaults.setOptionNames.joined(separator: ","),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
        print("MuJoCo \(Environments.mujocoVersion); episodes are truncated at 1000 steps.")
    }
}
