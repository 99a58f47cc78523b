import CMuJoCo

/// The Gymnasium v5 MuJoCo locomotion tasks on MuJoCo's C library.
public enum Environments {
    /// The version string of the linked MuJoCo library (e.g. "2.2.2").
    public static var mujocoVersion: String {
        String(cString: mj_versionString())
    }
}
