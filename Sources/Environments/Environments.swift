import CMuJoCo

/// The Gymnasium v5 MuJoCo locomotion tasks on MuJoCo's C library (Debian's MuJoCo 2.2.2).
///
/// - `TaskRegistry`: the eight tasks (`all`, `spec(id:)`, `make(id:options:)`), their `TaskSpec`s
///   and shared compiled models.
/// - `Environment`: `reset(seed:)` and `step`, plus allocation-free variants for training loops.
///   The rules of each task are in its own file (Hopper.swift ... InvertedDoublePendulum.swift);
///   Hopper and Walker2d share theirs apart from model, observation and health (PlanarLegged.swift).
/// - `MuJoCoModel` / `MuJoCoData`: the safe layer over `mjModel` / `mjData`; MuJoCo errors become
///   `MuJoCoError`s, MuJoCo warnings are logged under the label `satr.mujoco`.
/// - `ModelFile`: the MJCF files shipped as package resources.
public enum Environments {
    /// The version string of the linked MuJoCo library (e.g. "2.2.2").
    public static var mujocoVersion: String {
        String(cString: mj_versionString())
    }
}
