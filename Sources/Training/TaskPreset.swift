import Foundation

/// Per-task training settings found by measurement, one readable JSON file per task in
/// `Sources/Training/Presets/<task>.json` (as RL-Zoo keeps its hyperparameter files).
///
/// A preset file is an object with `description` (text: what was measured, and where the numbers
/// are), `common` (config keys for every algorithm) and one object per algorithm (`satr`, `ec`,
/// `es`) with that algorithm's keys. `satr train --env TASK` lays the preset over the defaults;
/// a config file and the flags override it; `config.json` records the resolved values.
public enum TaskPreset {
    /// The preset of `task` for `algo` as a config layer (`common` merged with the algorithm's
    /// object), or nil when the task has no preset file.
    public static func layer(task: String, algo: Algorithm) throws -> [String: JSONTree]? {
        guard let url = Bundle.module.url(forResource: task, withExtension: "json", subdirectory: "Presets") else {
            return nil
        }
        let whole = try TrainingConfig.layer(contentsOf: url)
        let sections = Set(["description", "common"] + Algorithm.allCases.map(\.rawValue))
        for key in whole.keys where !sections.contains(key) {
            throw ConfigError.invalid(field: "preset \(task)", message: "unknown section \"\(key)\"; known: \(sections.sorted().joined(separator: ", "))")
        }
        var layer = whole["common"]?.object ?? [:]
        layer.merge(whole[algo.rawValue]?.object ?? [:]) { $1 }
        return layer
    }

    /// The tasks that have a preset.
    public static var tasks: [String] {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Presets"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}
