import CMuJoCo
import Foundation
import XCTest

@testable import Environments

/// Compiles each MJCF model shipped in `Sources/Environments/Models/` with the linked MuJoCo (2.2.2)
/// and checks the compiled `mjModel` against the "compiled check" of its parameter sheet
/// (`Fixtures/models/<name>.compiled.json`, read from pip mujoco 3.0.0 at full precision;
/// docs/TASKS.md, "Model files").
///
/// Rules (docs/TASKS.md, "Model files"):
/// - integer fields (counts, types, addresses, parents, contype/conaffinity/condim, limited flags) and
///   names are equal;
/// - every float entry satisfies `|mine − sheet| ≤ 1e-6 · |sheet|`, or `|mine − sheet| ≤ 1e-12` where
///   the sheet entry is 0;
/// - `body_iquat` is skipped for axisymmetric bodies (the sheet's † bodies: two principal moments equal,
///   so the principal frame is not unique); for those the body-frame tensor `R·diag(I)·Rᵀ` is compared
///   instead, to 1e-6 of the largest principal moment.
///
/// 1e-6 is only the acceptance gate. The trace fixtures need bit-identical models, so every check also
/// reports the largest relative difference it saw (expected 0, or ≤ 1e-15 where the README says so).
final class CompiledModelTests: XCTestCase {
    /// The models checked here, by resource name (`Models/<name>.xml` and
    /// `Fixtures/models/<name>.compiled.json`). Append a model's name to add it to the check.
    static let modelNames: [String] = [
        "hopper",
        "inverted_pendulum",
        "inverted_double_pendulum",
        "swimmer",
        "walker2d",
        "half_cheetah",
        "ant",
        "humanoid",
    ]

    func testCompiledModelsMatchTheirSheets() throws {
        var summary: [String] = []
        for name in Self.modelNames {
            let modelURL = try ModelResources.modelURL(name)
            let sheet = try ModelResources.sheet(name)
            let report = try CompiledModelCheck.compare(modelAt: modelURL, with: sheet)
            XCTAssertTrue(
                report.failures.isEmpty,
                "\(name): \(report.failures.count) entries outside the tolerance:\n"
                    + report.failures.prefix(20).joined(separator: "\n"))
            summary.append("\(name): \(report.summary)")
        }
        print("Compiled model check (MuJoCo \(String(cString: mj_versionString()))):\n  "
            + summary.joined(separator: "\n  "))
    }

    /// The checker itself must notice differences: `0.2` instead of the authored `0.19999999999999996`
    /// passes the 1e-6 gate but shows up as a non-zero largest difference (≈6e-16, as the README says).
    func testLastBitChangeIsReportedButPassesTheGate() throws {
        let text = try String(contentsOf: ModelResources.modelURL("hopper"), encoding: .utf8)
        XCTAssertTrue(text.contains("0.19999999999999996"))
        let changed = text.replacingOccurrences(of: "0.19999999999999996", with: "0.2")
        let report = try TemporaryModel.withFile(changed) { url in
            try CompiledModelCheck.compare(modelAt: url, with: ModelResources.sheet("hopper"))
        }
        XCTAssertTrue(report.failures.isEmpty, report.failures.joined(separator: "\n"))
        XCTAssertGreaterThan(report.largestRelative, 0, report.summary)
        XCTAssertLessThan(report.largestRelative, 1e-12, report.summary)
    }

    /// A change above the gate (gear 200 → 200.001, 5e-6 relative) fails, and names the array.
    func testChangeAboveTheGateFails() throws {
        let text = try String(contentsOf: ModelResources.modelURL("hopper"), encoding: .utf8)
        XCTAssertTrue(text.contains("gear=\"200.0\""))
        let changed = text.replacingOccurrences(of: "gear=\"200.0\"", with: "gear=\"200.001\"")
        let report = try TemporaryModel.withFile(changed) { url in
            try CompiledModelCheck.compare(modelAt: url, with: ModelResources.sheet("hopper"))
        }
        XCTAssertEqual(report.failures.count, 3, report.failures.joined(separator: "\n"))
        XCTAssertTrue(report.failures.allSatisfy { $0.hasPrefix("actuator_gear") })
    }

    /// A file MuJoCo 2.2.2 cannot compile (here: a range without `limited`, no autolimits in 2.2.2)
    /// is reported as an error with MuJoCo's message, not a crash.
    func testUncompilableModelIsAnError() throws {
        let xml = """
            <mujoco><worldbody><body><joint type="hinge" range="-1 1"/>\
            <geom type="sphere" size="0.1"/></body></worldbody></mujoco>
            """
        XCTAssertThrowsError(try TemporaryModel.withFile(xml) { try CompiledModelCheck.load($0) }) { error in
            XCTAssertTrue("\(error)".contains("limited"), "\(error)")
        }
    }
}

// MARK: - Resources

private enum ModelResources {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// The Environments module's resource bundle. Both this test target and Environments have a
    /// generated `Bundle.module`; the test target's one is in scope here, so the Environments bundle is
    /// found beside it (`SATR_Environments.resources` on Linux, `.bundle` on Apple platforms).
    static func environmentsBundle() throws -> Bundle {
        let near = Bundle.module.bundleURL.deletingLastPathComponent()
        let roots = [near, Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for root in roots {
            for suffix in ["resources", "bundle"] {
                let url = root.appendingPathComponent("SATR_Environments.\(suffix)")
                if let bundle = Bundle(url: url) { return bundle }
            }
        }
        throw Missing(description: "Environments resource bundle not found next to \(near.path)")
    }

    static func modelURL(_ name: String) throws -> URL {
        let bundle = try environmentsBundle()
        guard let url = bundle.url(forResource: name, withExtension: "xml", subdirectory: "Models") else {
            throw Missing(description: "Models/\(name).xml is not in \(bundle.bundleURL.path)")
        }
        return url
    }

    static func sheet(_ name: String) throws -> CompiledSheet {
        guard
            let url = Bundle.module.url(
                forResource: "\(name).compiled", withExtension: "json", subdirectory: "Fixtures/models")
        else { throw Missing(description: "Fixtures/models/\(name).compiled.json is missing") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(CompiledSheet.self, from: Data(contentsOf: url))
    }
}

private enum TemporaryModel {
    /// Writes `xml` to a fresh temporary file, runs `body` on its URL, then removes the file.
    static func withFile<T>(_ xml: String, _ body: (URL) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("satr-model-\(UUID().uuidString).xml")
        try xml.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }
}

// MARK: - The sheet's compiled values

/// `<name>.compiled.json`: the compiled `MjModel` arrays of the reference asset at full float64 precision.
private struct CompiledSheet: Decodable {
    struct Options: Decodable {
        let timestep: Double
        let gravity: [Double]
        let wind: [Double]
        let magnetic: [Double]
        let density: Double
        let viscosity: Double
        let impratio: Double
        let tolerance: Double
        let oMargin: Double
        let integrator: String
        let solver: String
        let iterations: Int
        let cone: String
        let jacobian: String
        let noslipIterations: Int
        let mprIterations: Int
        let disableflags: Int
        let enableflags: Int
    }

    let nq, nv, nu, na, nbody, njnt, ngeom, nsite, ntendon: Int
    let totalMass: Double
    let opt: Options
    let qpos0: [Double]
    let bodyName: [String]
    let bodyParentid: [Int]
    let bodyPos, bodyQuat: [[Double]]
    let bodyMass: [Double]
    let bodyInertia, bodyIpos, bodyIquat: [[Double]]
    let jntName, jntType: [String]
    let jntBodyid, jntQposadr, jntDofadr: [Int]
    let jntPos, jntAxis, jntRange: [[Double]]
    let jntLimited: [Bool]
    let jntStiffness, jntMargin: [Double]
    let jntSolref, jntSolimp: [[Double]]
    let qposSpring, dofArmature, dofDamping, dofFrictionloss: [Double]
    let geomName, geomType: [String]
    let geomBodyid: [Int]
    let geomSize, geomPos, geomQuat, geomFriction: [[Double]]
    let geomContype, geomConaffinity, geomCondim: [Int]
    let geomMargin, geomGap: [Double]
    let geomSolref, geomSolimp: [[Double]]
    let geomSolmix: [Double]
    let geomPriority: [Int]
    let siteName: [String]
    let siteBodyid: [Int]
    let sitePos: [[Double]]
    let actuatorName, actuatorJoint: [String]
    let actuatorGear, actuatorCtrlrange: [[Double]]
    let actuatorCtrllimited, actuatorForcelimited: [Bool]
    let tendonName: [String]
    let tendonLength0: [Double]
}

// MARK: - The check

private struct CompiledModelReport {
    var failures: [String] = []
    /// Largest `|mine − sheet| / |sheet|` over all compared float entries with a non-zero sheet value.
    var largestRelative = 0.0
    var largestRelativeField = "-"
    /// Largest `|mine − sheet|` over float entries whose sheet value is 0.
    var largestAbsoluteAtZero = 0.0
    /// Largest difference of the body-frame inertia tensors of axisymmetric bodies, relative to the
    /// body's largest principal moment (their `body_iquat` is not compared).
    var largestTensorRelative = 0.0
    var skippedIquatBodies: [Int] = []
    var comparedEntries = 0

    var summary: String {
        "largest relative difference \(largestRelative) (\(largestRelativeField)), "
            + "largest absolute at zero entries \(largestAbsoluteAtZero), "
            + "axisymmetric inertia tensors \(largestTensorRelative), "
            + "\(comparedEntries) entries, iquat skipped for bodies \(skippedIquatBodies)"
    }

    mutating func equal<T: Equatable>(_ field: String, _ mine: T, _ sheet: T) {
        comparedEntries += 1
        if mine != sheet { failures.append("\(field): \(mine) != sheet \(sheet)") }
    }

    mutating func equal<T: Equatable>(_ field: String, _ mine: [T], _ sheet: [T]) {
        guard mine.count == sheet.count else {
            failures.append("\(field): \(mine.count) entries, sheet has \(sheet.count)")
            return
        }
        for (i, (a, b)) in zip(mine, sheet).enumerated() { equal("\(field)[\(i)]", a, b) }
    }

    /// One float entry under the 1e-6 relative rule (1e-12 absolute where the sheet has 0).
    /// `counted: false` checks it without entering it into the largest-difference diagnostics.
    mutating func real(_ field: String, _ mine: Double, _ sheet: Double, counted: Bool = true) {
        comparedEntries += 1
        let difference = abs(mine - sheet)
        let ok = sheet == 0 ? difference <= 1e-12 : difference <= 1e-6 * abs(sheet)
        if !ok || !mine.isFinite {
            failures.append("\(field): \(mine) vs sheet \(sheet) (difference \(difference))")
        }
        guard counted else { return }
        if sheet == 0 {
            largestAbsoluteAtZero = max(largestAbsoluteAtZero, difference)
        } else if difference / abs(sheet) > largestRelative {
            largestRelative = difference / abs(sheet)
            largestRelativeField = field
        }
    }

    mutating func reals(_ field: String, _ mine: [Double], _ sheet: [Double]) {
        guard mine.count == sheet.count else {
            failures.append("\(field): \(mine.count) entries, sheet has \(sheet.count)")
            return
        }
        for (i, (a, b)) in zip(mine, sheet).enumerated() { real("\(field)[\(i)]", a, b) }
    }

    mutating func rows(_ field: String, _ mine: [[Double]], _ sheet: [[Double]], skipping: Set<Int> = []) {
        guard mine.count == sheet.count else {
            failures.append("\(field): \(mine.count) rows, sheet has \(sheet.count)")
            return
        }
        for (i, (a, b)) in zip(mine, sheet).enumerated() where !skipping.contains(i) {
            reals("\(field)[\(i)]", a, b)
        }
    }

    /// Body-frame inertia tensor check for an axisymmetric body, to 1e-6 of its largest moment.
    mutating func tensor(_ body: Int, mine: (moments: [Double], quat: [Double]),
                         sheet: (moments: [Double], quat: [Double])) {
        let a = inertiaTensor(moments: mine.moments, quat: mine.quat)
        let b = inertiaTensor(moments: sheet.moments, quat: sheet.quat)
        let scale = sheet.moments.map(abs).max() ?? 0
        for k in 0..<9 {
            comparedEntries += 1
            let difference = abs(a[k] - b[k])
            if difference > 1e-6 * scale + 1e-12 {
                failures.append("body inertia tensor[\(body)][\(k)]: \(a[k]) vs sheet \(b[k])")
            }
            if scale > 0 { largestTensorRelative = max(largestTensorRelative, difference / scale) }
        }
    }
}

/// `R·diag(I)·Rᵀ` (row-major 3×3) with `R` the rotation of the unit quaternion `(w, x, y, z)`.
private func inertiaTensor(moments: [Double], quat q: [Double]) -> [Double] {
    let (w, x, y, z) = (q[0], q[1], q[2], q[3])
    let r: [Double] = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]
    var t = [Double](repeating: 0, count: 9)
    for i in 0..<3 {
        for j in 0..<3 {
            for k in 0..<3 { t[3 * i + j] += r[3 * i + k] * moments[k] * r[3 * j + k] }
        }
    }
    return t
}

private enum CompiledModelCheck {
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Compiles an MJCF file with `mj_loadXML`; MuJoCo's error text becomes a thrown error.
    static func load(_ url: URL) throws -> UnsafeMutablePointer<mjModel> {
        var message = [CChar](repeating: 0, count: 1000)
        let model = message.withUnsafeMutableBufferPointer { buffer in
            mj_loadXML(url.path, nil, buffer.baseAddress, Int32(buffer.count))
        }
        guard let model else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw LoadError(description: "mj_loadXML(\(url.lastPathComponent)) failed: \(text)")
        }
        return model
    }

    /// A body is axisymmetric (the sheet's †) when two of its principal moments agree to 1e-9 of the
    /// largest; the sheets mark exactly these bodies.
    static func axisymmetricBodies(_ sheet: CompiledSheet) -> Set<Int> {
        var bodies = Set<Int>()
        for (i, moments) in sheet.bodyInertia.enumerated() where i > 0 && moments.count == 3 {
            let scale = moments.map(abs).max() ?? 0
            let (a, b, c) = (moments[0], moments[1], moments[2])
            if scale > 0,
               abs(a - b) <= 1e-9 * scale || abs(b - c) <= 1e-9 * scale || abs(a - c) <= 1e-9 * scale {
                bodies.insert(i)
            }
        }
        return bodies
    }

    static func compare(modelAt url: URL, with sheet: CompiledSheet) throws -> CompiledModelReport {
        let model = try load(url)
        defer { mj_deleteModel(model) }
        let m = model.pointee
        var r = CompiledModelReport()

        // Sizes.
        r.equal("nq", Int(m.nq), sheet.nq)
        r.equal("nv", Int(m.nv), sheet.nv)
        r.equal("nu", Int(m.nu), sheet.nu)
        r.equal("na", Int(m.na), sheet.na)
        r.equal("nbody", Int(m.nbody), sheet.nbody)
        r.equal("njnt", Int(m.njnt), sheet.njnt)
        r.equal("ngeom", Int(m.ngeom), sheet.ngeom)
        r.equal("nsite", Int(m.nsite), sheet.nsite)
        r.equal("ntendon", Int(m.ntendon), sheet.ntendon)
        guard r.failures.isEmpty else { return r }  // arrays of different sizes: nothing more to compare

        // Options.
        let o = m.opt
        r.real("opt.timestep", o.timestep, sheet.opt.timestep)
        r.reals("opt.gravity", [o.gravity.0, o.gravity.1, o.gravity.2], sheet.opt.gravity)
        r.reals("opt.wind", [o.wind.0, o.wind.1, o.wind.2], sheet.opt.wind)
        r.reals("opt.magnetic", [o.magnetic.0, o.magnetic.1, o.magnetic.2], sheet.opt.magnetic)
        r.real("opt.density", o.density, sheet.opt.density)
        r.real("opt.viscosity", o.viscosity, sheet.opt.viscosity)
        r.real("opt.impratio", o.impratio, sheet.opt.impratio)
        r.real("opt.tolerance", o.tolerance, sheet.opt.tolerance)
        r.real("opt.o_margin", o.o_margin, sheet.opt.oMargin)
        r.equal("opt.integrator", name(o.integrator, ["Euler", "RK4", "implicit"]), sheet.opt.integrator)
        r.equal("opt.solver", name(o.solver, ["PGS", "CG", "Newton"]), sheet.opt.solver)
        r.equal("opt.iterations", Int(o.iterations), sheet.opt.iterations)
        r.equal("opt.cone", name(o.cone, ["pyramidal", "elliptic"]), sheet.opt.cone)
        r.equal("opt.jacobian", name(o.jacobian, ["dense", "sparse", "auto"]), sheet.opt.jacobian)
        r.equal("opt.noslip_iterations", Int(o.noslip_iterations), sheet.opt.noslipIterations)
        r.equal("opt.mpr_iterations", Int(o.mpr_iterations), sheet.opt.mprIterations)
        r.equal("opt.disableflags", Int(o.disableflags), sheet.opt.disableflags)
        r.equal("opt.enableflags", Int(o.enableflags), sheet.opt.enableflags)

        let (nq, nv, nu) = (Int(m.nq), Int(m.nv), Int(m.nu))
        let (nbody, njnt, ngeom, nsite, ntendon) =
            (Int(m.nbody), Int(m.njnt), Int(m.ngeom), Int(m.nsite), Int(m.ntendon))
        let nref = Int(mjNREF), nimp = Int(mjNIMP)

        r.reals("qpos0", flat(m.qpos0, nq), sheet.qpos0)

        // Bodies.
        let axisymmetric = axisymmetricBodies(sheet)
        r.skippedIquatBodies = axisymmetric.sorted()
        r.equal("body_name", names(m, m.name_bodyadr, nbody), sheet.bodyName)
        r.equal("body_parentid", ints(m.body_parentid, nbody), sheet.bodyParentid)
        r.rows("body_pos", rows(m.body_pos, nbody, 3), sheet.bodyPos)
        r.rows("body_quat", rows(m.body_quat, nbody, 4), sheet.bodyQuat)
        let bodyMass = flat(m.body_mass, nbody)
        r.reals("body_mass", bodyMass, sheet.bodyMass)
        let inertia = rows(m.body_inertia, nbody, 3)
        r.rows("body_inertia", inertia, sheet.bodyInertia)
        r.rows("body_ipos", rows(m.body_ipos, nbody, 3), sheet.bodyIpos)
        let iquat = rows(m.body_iquat, nbody, 4)
        r.rows("body_iquat", iquat, sheet.bodyIquat, skipping: axisymmetric)
        for body in axisymmetric.sorted() where body < sheet.bodyIquat.count {
            r.tensor(body, mine: (inertia[body], iquat[body]),
                     sheet: (sheet.bodyInertia[body], sheet.bodyIquat[body]))
        }
        // A derived sum: checked against the gate, not entered into the diagnostics (the sheet sums
        // in a different order, which can move the last bit).
        r.real("total_mass", bodyMass.reduce(0, +), sheet.totalMass, counted: false)

        // Joints and dofs.
        r.equal("jnt_name", names(m, m.name_jntadr, njnt), sheet.jntName)
        r.equal("jnt_type", ints(m.jnt_type, njnt).map { name(Int32($0), ["free", "ball", "slide", "hinge"]) },
                sheet.jntType)
        r.equal("jnt_bodyid", ints(m.jnt_bodyid, njnt), sheet.jntBodyid)
        r.equal("jnt_qposadr", ints(m.jnt_qposadr, njnt), sheet.jntQposadr)
        r.equal("jnt_dofadr", ints(m.jnt_dofadr, njnt), sheet.jntDofadr)
        r.rows("jnt_pos", rows(m.jnt_pos, njnt, 3), sheet.jntPos)
        r.rows("jnt_axis", rows(m.jnt_axis, njnt, 3), sheet.jntAxis)
        r.rows("jnt_range", rows(m.jnt_range, njnt, 2), sheet.jntRange)
        r.equal("jnt_limited", bytes(m.jnt_limited, njnt), sheet.jntLimited)
        r.reals("jnt_stiffness", flat(m.jnt_stiffness, njnt), sheet.jntStiffness)
        r.reals("jnt_margin", flat(m.jnt_margin, njnt), sheet.jntMargin)
        r.rows("jnt_solref", rows(m.jnt_solref, njnt, nref), sheet.jntSolref)
        r.rows("jnt_solimp", rows(m.jnt_solimp, njnt, nimp), sheet.jntSolimp)
        r.reals("qpos_spring", flat(m.qpos_spring, nq), sheet.qposSpring)
        r.reals("dof_armature", flat(m.dof_armature, nv), sheet.dofArmature)
        r.reals("dof_damping", flat(m.dof_damping, nv), sheet.dofDamping)
        r.reals("dof_frictionloss", flat(m.dof_frictionloss, nv), sheet.dofFrictionloss)

        // Geoms.
        let geomTypes = ["plane", "hfield", "sphere", "capsule", "ellipsoid", "cylinder", "box", "mesh"]
        r.equal("geom_name", names(m, m.name_geomadr, ngeom), sheet.geomName)
        r.equal("geom_type", ints(m.geom_type, ngeom).map { name(Int32($0), geomTypes) }, sheet.geomType)
        r.equal("geom_bodyid", ints(m.geom_bodyid, ngeom), sheet.geomBodyid)
        r.rows("geom_size", rows(m.geom_size, ngeom, 3), sheet.geomSize)
        r.rows("geom_pos", rows(m.geom_pos, ngeom, 3), sheet.geomPos)
        r.rows("geom_quat", rows(m.geom_quat, ngeom, 4), sheet.geomQuat)
        r.rows("geom_friction", rows(m.geom_friction, ngeom, 3), sheet.geomFriction)
        r.equal("geom_contype", ints(m.geom_contype, ngeom), sheet.geomContype)
        r.equal("geom_conaffinity", ints(m.geom_conaffinity, ngeom), sheet.geomConaffinity)
        r.equal("geom_condim", ints(m.geom_condim, ngeom), sheet.geomCondim)
        r.reals("geom_margin", flat(m.geom_margin, ngeom), sheet.geomMargin)
        r.reals("geom_gap", flat(m.geom_gap, ngeom), sheet.geomGap)
        r.rows("geom_solref", rows(m.geom_solref, ngeom, nref), sheet.geomSolref)
        r.rows("geom_solimp", rows(m.geom_solimp, ngeom, nimp), sheet.geomSolimp)
        r.reals("geom_solmix", flat(m.geom_solmix, ngeom), sheet.geomSolmix)
        r.equal("geom_priority", ints(m.geom_priority, ngeom), sheet.geomPriority)

        // Sites.
        r.equal("site_name", names(m, m.name_siteadr, nsite), sheet.siteName)
        r.equal("site_bodyid", ints(m.site_bodyid, nsite), sheet.siteBodyid)
        r.rows("site_pos", rows(m.site_pos, nsite, 3), sheet.sitePos)

        // Actuators (the transmission target is named: a joint, or a tendon for tendon actuators).
        r.equal("actuator_name", names(m, m.name_actuatoradr, nu), sheet.actuatorName)
        let targets: [String] = (0..<nu).map { i in
            let id = Int(m.actuator_trnid[2 * i])
            let isTendon = m.actuator_trntype[i] == Int32(mjTRN_TENDON.rawValue)
            return names(m, isTendon ? m.name_tendonadr : m.name_jntadr, isTendon ? ntendon : njnt)[id]
        }
        r.equal("actuator_joint", targets, sheet.actuatorJoint)
        r.rows("actuator_gear", rows(m.actuator_gear, nu, 6), sheet.actuatorGear)
        r.rows("actuator_ctrlrange", rows(m.actuator_ctrlrange, nu, 2), sheet.actuatorCtrlrange)
        r.equal("actuator_ctrllimited", bytes(m.actuator_ctrllimited, nu), sheet.actuatorCtrllimited)
        r.equal("actuator_forcelimited", bytes(m.actuator_forcelimited, nu), sheet.actuatorForcelimited)

        // Tendons.
        r.equal("tendon_name", names(m, m.name_tendonadr, ntendon), sheet.tendonName)
        r.reals("tendon_length0", flat(m.tendon_length0, ntendon), sheet.tendonLength0)
        return r
    }

    // MARK: Reading mjModel arrays

    private static func name<T: BinaryInteger>(_ value: T, _ names: [String]) -> String {
        let i = Int(value)
        return names.indices.contains(i) ? names[i] : "unknown(\(i))"
    }

    private static func flat(_ p: UnsafeMutablePointer<mjtNum>?, _ n: Int) -> [Double] {
        guard let p, n > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    private static func rows(_ p: UnsafeMutablePointer<mjtNum>?, _ n: Int, _ width: Int) -> [[Double]] {
        let all = flat(p, n * width)
        return (0..<n).map { Array(all[($0 * width)..<(($0 + 1) * width)]) }
    }

    private static func ints(_ p: UnsafeMutablePointer<Int32>?, _ n: Int) -> [Int] {
        guard let p, n > 0 else { return [] }
        return UnsafeBufferPointer(start: p, count: n).map(Int.init)
    }

    private static func bytes(_ p: UnsafeMutablePointer<mjtByte>?, _ n: Int) -> [Bool] {
        guard let p, n > 0 else { return [] }
        return UnsafeBufferPointer(start: p, count: n).map { $0 != 0 }
    }

    /// Element names; MuJoCo stores unnamed elements as "", the sheets write "(unnamed #i)".
    private static func names(_ m: mjModel, _ addresses: UnsafeMutablePointer<Int32>?, _ n: Int) -> [String] {
        ints(addresses, n).enumerated().map { i, address in
            let text = String(cString: m.names + address)
            return text.isEmpty ? "(unnamed #\(i))" : text
        }
    }
}
