import CMuJoCo
import Foundation
import Logging

/// Errors of the MuJoCo layer. Every MuJoCo failure arrives here as a Swift error; the library
/// never exits the process (see `Sources/CMuJoCo/shim.h` for how `mju_user_error` is caught).
public enum MuJoCoError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The XML could not be parsed or compiled. `source` is the file path or "<in-memory XML>".
    case loadFailed(source: String, message: String)
    /// MuJoCo raised a fatal error (`mju_error`) during `operation`. The data instance must be
    /// reset (`MuJoCoData.reset()`) before it is used again.
    case mujocoError(operation: String, message: String)
    /// The state became non-finite (MuJoCo warnings `mjWARN_BADQPOS/BADQVEL/BADQACC/BADCTRL`).
    /// MuJoCo 2.2.2 then resets the state to `qpos0` on its own, so the trajectory is broken and
    /// the data instance must be reset before it is used again.
    case simulationUnstable(warning: String, index: Int, time: Double)
    /// An array assigned to the data instance had the wrong length.
    case sizeMismatch(field: String, expected: Int, actual: Int)
    /// A previous error left the data instance in an undefined state; call `reset()`.
    case resetRequired(reason: String)

    public var description: String {
        switch self {
        case .loadFailed(let source, let message):
            return "MuJoCo could not load \(source): \(message)"
        case .mujocoError(let operation, let message):
            return "MuJoCo error in \(operation): \(message)"
        case .simulationUnstable(let warning, let index, let time):
            return "MuJoCo simulation became unstable at time \(time): \(warning) (index \(index)); "
                + "MuJoCo reset the state, so the episode is invalid and needs a reset"
        case .sizeMismatch(let field, let expected, let actual):
            return "\(field) needs \(expected) values, got \(actual)"
        case .resetRequired(let reason):
            return "the simulation needs a reset: \(reason)"
        }
    }
}

/// Logger for MuJoCo's own warnings (label `satr.mujoco`).
let mujocoLogger = Logger(label: "satr.mujoco")

/// Installs MuJoCo's error and warning handlers once per process: errors unwind to the guarded
/// call and become `MuJoCoError`; warnings are logged at level `warning`.
private let mujocoHandlersInstalled: Bool = {
    satr_mj_install_handlers { message in
        let text = message.map { String(cString: $0) } ?? "(no message)"
        mujocoLogger.warning("MuJoCo warning: \(text)")
    }
    return true
}()

/// MuJoCo model compilation temporarily swaps the library's global error and warning handlers, so
/// compile one model at a time.
private let compileLock = NSLock()

/// A compiled MuJoCo model (`mjModel`), immutable after loading.
///
/// Share one instance across threads: stepping only reads the model. Every thread (environment)
/// needs its own `MuJoCoData`.
public final class MuJoCoModel: @unchecked Sendable {
    // @unchecked: the pointee is never written after compilation; MuJoCo's stepping functions
    // take `const mjModel*`.
    let pointer: UnsafeMutablePointer<mjModel>

    /// Where the model came from (file path or "<in-memory XML>"), for messages.
    public let source: String

    /// Loads and compiles an MJCF file.
    public convenience init(contentsOf url: URL) throws {
        try self.init(path: url.path, xml: nil, source: url.path)
    }

    /// Compiles MJCF held in memory. The model may not include other files.
    public convenience init(xml: String) throws {
        try self.init(path: "model.xml", xml: xml, source: "<in-memory XML>")
    }

    private init(path: String, xml: String?, source: String) throws {
        _ = mujocoHandlersInstalled
        self.source = source
        var error = [CChar](repeating: 0, count: 2048)
        let capacity = Int32(error.count)
        let loaded: UnsafeMutablePointer<mjModel>? = compileLock.withLock {
            error.withUnsafeMutableBufferPointer { errorBuffer in
                if let xml {
                    var bytes = Array(xml.utf8)
                    if bytes.isEmpty { bytes = [0x20] }
                    return bytes.withUnsafeBufferPointer { raw in
                        raw.withMemoryRebound(to: CChar.self) { chars in
                            satr_load_xml(
                                path, chars.baseAddress, Int32(chars.count), errorBuffer.baseAddress,
                                capacity)
                        }
                    }
                } else {
                    return satr_load_xml(path, nil, 0, errorBuffer.baseAddress, capacity)
                }
            }
        }
        let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let loaded else {
            throw MuJoCoError.loadFailed(source: source, message: message.isEmpty ? "unknown error" : message)
        }
        if !message.isEmpty {
            mujocoLogger.warning("MuJoCo compiler warning for \(source): \(message)")
        }
        pointer = loaded
    }

    deinit {
        mj_deleteModel(pointer)
    }

    /// Number of position coordinates (dim qpos).
    public var nq: Int { Int(pointer.pointee.nq) }
    /// Number of degrees of freedom (dim qvel).
    public var nv: Int { Int(pointer.pointee.nv) }
    /// Number of actuators (dim ctrl).
    public var nu: Int { Int(pointer.pointee.nu) }
    /// Number of activation states (dim act).
    public var na: Int { Int(pointer.pointee.na) }
    /// Number of bodies, the world body 0 included.
    public var nbody: Int { Int(pointer.pointee.nbody) }
    /// Number of sites.
    public var nsite: Int { Int(pointer.pointee.nsite) }
    /// Number of tendons.
    public var ntendon: Int { Int(pointer.pointee.ntendon) }
    /// Number of geoms.
    public var ngeom: Int { Int(pointer.pointee.ngeom) }
    /// Number of joints.
    public var njnt: Int { Int(pointer.pointee.njnt) }
    /// The physics timestep `opt.timestep` in seconds.
    public var timestep: Double { pointer.pointee.opt.timestep }
    /// The integrator (`mjtIntegrator`: 0 Euler, 1 RK4, 2 implicit).
    public var integrator: Int { Int(pointer.pointee.opt.integrator) }
    /// The constraint solver iterations `opt.iterations`.
    public var iterations: Int { Int(pointer.pointee.opt.iterations) }

    /// The default pose `qpos0` (nq).
    public var qpos0: [Double] { Array(UnsafeBufferPointer(start: pointer.pointee.qpos0, count: nq)) }
    /// Body masses (nbody).
    public var bodyMass: [Double] { Array(UnsafeBufferPointer(start: pointer.pointee.body_mass, count: nbody)) }
    /// Body principal inertias (nbody x 3, row-major).
    public var bodyInertia: [Double] {
        Array(UnsafeBufferPointer(start: pointer.pointee.body_inertia, count: nbody * 3))
    }
    /// Actuator control ranges (nu x 2, row-major: low, high).
    public var actuatorCtrlRange: [Double] {
        Array(UnsafeBufferPointer(start: pointer.pointee.actuator_ctrlrange, count: nu * 2))
    }
    /// Actuator gears (nu x 6, row-major).
    public var actuatorGear: [Double] {
        Array(UnsafeBufferPointer(start: pointer.pointee.actuator_gear, count: nu * 6))
    }

    /// The name of object `id` of type `type` (`mjtObj` raw value), or nil.
    public func name(of type: mjtObj, id: Int) -> String? {
        guard let cName = mj_id2name(pointer, Int32(type.rawValue), Int32(id)) else { return nil }
        return String(cString: cName)
    }

    /// The id of the body named `name`, or nil.
    public func bodyID(named name: String) -> Int? {
        let id = mj_name2id(pointer, Int32(mjOBJ_BODY.rawValue), name)
        return id < 0 ? nil : Int(id)
    }
}

/// One simulation state (`mjData`) of a shared `MuJoCoModel`.
///
/// Not thread-safe: use one instance per thread (environment). The array properties are copies;
/// the package's environments use internal pointers on the hot path. After any thrown error the
/// instance must be `reset()` before it steps again.
public final class MuJoCoData {
    /// The model this data belongs to (kept alive by this reference).
    public let model: MuJoCoModel
    let pointer: UnsafeMutablePointer<mjData>
    let m: UnsafePointer<mjModel>

    // The arrays live in mjData's single buffer, allocated once by mj_makeData; the pointers stay
    // valid for the lifetime of `pointer`.
    let qposPointer: UnsafeMutablePointer<Double>
    let qvelPointer: UnsafeMutablePointer<Double>
    let ctrlPointer: UnsafeMutablePointer<Double>

    /// Set after an error that leaves mjData undefined; cleared by `reset()`.
    private(set) var brokenReason: String?

    /// Allocates a data instance (`mj_makeData`) and leaves it at the model's default state.
    public init(model: MuJoCoModel) throws {
        _ = mujocoHandlersInstalled
        self.model = model
        self.m = UnsafePointer(model.pointer)
        var made: UnsafeMutablePointer<mjData>? = nil
        if satr_guarded_make_data(m, &made) != 0 {
            throw MuJoCoError.mujocoError(operation: "mj_makeData", message: Self.lastErrorMessage())
        }
        guard let made else {
            throw MuJoCoError.mujocoError(operation: "mj_makeData", message: "allocation failed")
        }
        pointer = made
        qposPointer = made.pointee.qpos
        qvelPointer = made.pointee.qvel
        ctrlPointer = made.pointee.ctrl
    }

    deinit {
        mj_deleteData(pointer)
    }

    static func lastErrorMessage() -> String {
        String(cString: satr_mj_last_error_message())
    }

    private func fail(_ operation: String) -> MuJoCoError {
        let message = Self.lastErrorMessage()
        brokenReason = "MuJoCo error in \(operation): \(message)"
        return MuJoCoError.mujocoError(operation: operation, message: message)
    }

    /// `mj_resetData`: the default state (qpos0, zero velocity, zero controls, time 0, warning
    /// counters cleared). Clears a previous error.
    public func reset() throws {
        if satr_guarded_reset(m, pointer) != 0 { throw fail("mj_resetData") }
        brokenReason = nil
    }

    /// `mj_forward`: recomputes every derived quantity from the current state.
    public func forward() throws {
        try checkUsable()
        if satr_guarded_forward(m, pointer) != 0 { throw fail("mj_forward") }
    }

    /// `mj_step` `count` times, then checks the instability counters.
    public func step(count: Int = 1) throws {
        try checkUsable()
        if satr_guarded_step(m, pointer, Int32(count)) != 0 { throw fail("mj_step") }
        try checkStability()
    }

    /// `mj_step` `count` times, then `mj_rnePostConstraint` once (fills `cacc`, `cfrc_int`,
    /// `cfrc_ext`), then checks the instability counters. This is Gymnasium's `do_simulation`.
    public func stepThenRNEPostConstraint(count: Int) throws {
        try checkUsable()
        if satr_guarded_step_rne(m, pointer, Int32(count)) != 0 { throw fail("mj_step") }
        try checkStability()
    }

    /// `mj_rnePostConstraint`.
    public func rnePostConstraint() throws {
        try checkUsable()
        if satr_guarded_rne_post_constraint(m, pointer) != 0 { throw fail("mj_rnePostConstraint") }
    }

    @inline(__always)
    func checkUsable() throws {
        if let brokenReason { throw MuJoCoError.resetRequired(reason: brokenReason) }
    }

    /// Throws `simulationUnstable` if MuJoCo flagged a non-finite qpos, qvel, qacc or ctrl since the
    /// last reset.
    @inline(__always)
    func checkStability() throws {
        if satr_instability_count(pointer) != 0 { throw instabilityError() }
    }

    private func instabilityError() -> MuJoCoError {
        let names: [(mjtWarning, String)] = [
            (mjWARN_BADQPOS, "bad number in qpos (mjWARN_BADQPOS)"),
            (mjWARN_BADQVEL, "bad number in qvel (mjWARN_BADQVEL)"),
            (mjWARN_BADQACC, "bad number in qacc (mjWARN_BADQACC)"),
            (mjWARN_BADCTRL, "bad number in ctrl (mjWARN_BADCTRL)"),
        ]
        var result = MuJoCoError.simulationUnstable(warning: "unknown", index: -1, time: time)
        for (warning, name) in names where satr_warning_count(pointer, Int32(warning.rawValue)) != 0 {
            result = .simulationUnstable(
                warning: name, index: Int(satr_warning_info(pointer, Int32(warning.rawValue))), time: time)
            break
        }
        brokenReason = result.description
        return result
    }

    /// Copies the whole state of `other` (`mj_copyData`); both must belong to the same model.
    public func copy(from other: MuJoCoData) throws {
        precondition(other.model === model, "MuJoCoData.copy(from:) needs data of the same model")
        if satr_guarded_copy_data(pointer, m, other.pointer) != 0 { throw fail("mj_copyData") }
        brokenReason = other.brokenReason
    }

    // MARK: Arrays (copies)

    private func read(_ base: UnsafeMutablePointer<Double>?, _ count: Int) -> [Double] {
        guard let base, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: base, count: count))
    }

    private func write(_ values: [Double], to base: UnsafeMutablePointer<Double>?, count: Int, field: String) throws {
        guard values.count == count else {
            throw MuJoCoError.sizeMismatch(field: field, expected: count, actual: values.count)
        }
        guard let base else { return }
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: count) }
    }

    /// Simulation time in seconds.
    public var time: Double {
        get { pointer.pointee.time }
        set { pointer.pointee.time = newValue }
    }
    /// Positions (nq).
    public var qpos: [Double] { read(qposPointer, model.nq) }
    /// Velocities (nv).
    public var qvel: [Double] { read(qvelPointer, model.nv) }
    /// Controls (nu).
    public var ctrl: [Double] { read(ctrlPointer, model.nu) }
    /// Actuator activations (na).
    public var act: [Double] { read(pointer.pointee.act, model.na) }
    /// Sets qpos (nq values).
    public func setQpos(_ values: [Double]) throws { try write(values, to: qposPointer, count: model.nq, field: "qpos") }
    /// Sets qvel (nv values).
    public func setQvel(_ values: [Double]) throws { try write(values, to: qvelPointer, count: model.nv, field: "qvel") }
    /// Sets ctrl (nu values).
    public func setCtrl(_ values: [Double]) throws { try write(values, to: ctrlPointer, count: model.nu, field: "ctrl") }
    /// Sets ctrl from a buffer of nu values (no allocation).
    public func setCtrl(_ values: UnsafeBufferPointer<Double>) throws {
        guard values.count == model.nu else {
            throw MuJoCoError.sizeMismatch(field: "ctrl", expected: model.nu, actual: values.count)
        }
        if let base = values.baseAddress { ctrlPointer.update(from: base, count: values.count) }
    }
    /// Accelerations (nv).
    public var qacc: [Double] { read(pointer.pointee.qacc, model.nv) }
    /// Body frame positions (nbody x 3).
    public var xpos: [Double] { read(pointer.pointee.xpos, model.nbody * 3) }
    /// Body centre-of-mass positions (nbody x 3).
    public var xipos: [Double] { read(pointer.pointee.xipos, model.nbody * 3) }
    /// Site positions (nsite x 3).
    public var siteXpos: [Double] { read(pointer.pointee.site_xpos, model.nsite * 3) }
    /// Com-based body inertias (nbody x 10).
    public var cinert: [Double] { read(pointer.pointee.cinert, model.nbody * 10) }
    /// Com-based body velocities (nbody x 6).
    public var cvel: [Double] { read(pointer.pointee.cvel, model.nbody * 6) }
    /// Com-based external forces on bodies (nbody x 6; filled by mj_rnePostConstraint).
    public var cfrcExt: [Double] { read(pointer.pointee.cfrc_ext, model.nbody * 6) }
    /// Actuator forces in joint space (nv).
    public var qfrcActuator: [Double] { read(pointer.pointee.qfrc_actuator, model.nv) }
    /// Constraint forces in joint space (nv).
    public var qfrcConstraint: [Double] { read(pointer.pointee.qfrc_constraint, model.nv) }
    /// Tendon lengths (ntendon).
    public var tendonLength: [Double] { read(pointer.pointee.ten_length, model.ntendon) }
    /// Tendon velocities (ntendon).
    public var tendonVelocity: [Double] { read(pointer.pointee.ten_velocity, model.ntendon) }
    /// Number of active contacts.
    public var contactCount: Int { Int(pointer.pointee.ncon) }
}
