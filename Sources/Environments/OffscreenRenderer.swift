import CMuJoCo
import Foundation

/// Errors of offscreen rendering.
public enum RenderError: Error, CustomStringConvertible, Sendable {
    /// No headless OpenGL context: libEGL or Mesa's EGL driver is missing.
    case noGLContext(String)
    /// MuJoCo's renderer failed.
    case renderer(String)
    /// A camera name the model does not have.
    case unknownCamera(String, known: [String])

    public var description: String {
        switch self {
        case .noGLContext(let reason):
            return "no headless OpenGL context: \(reason). Install Mesa's EGL and OpenGL drivers: apt-get install -y libegl1 libegl-mesa0 libgl1-mesa-dri"
        case .renderer(let message):
            return "MuJoCo's renderer failed: \(message)"
        case .unknownCamera(let name, let known):
            return "the model has no camera '\(name)'" + (known.isEmpty ? " (it has no named cameras)" : "; its cameras: \(known.joined(separator: ", "))")
        }
    }
}

/// How the default camera of a task looks at the robot, after Gymnasium's v5
/// `DEFAULT_CAMERA_CONFIG` of each task (distance, elevation, look-at height); the camera tracks
/// the root body (body 1) so the robot stays in view, except for the pendulums, whose cart stays
/// near the origin (a free camera on the rail's middle).
public struct TaskCamera: Sendable, Equatable {
    /// The tracked body (< 1: a free camera at `lookat`).
    public var trackBody: Int
    public var distance: Double
    public var elevation: Double
    public var azimuth: Double
    public var lookat: SIMD3<Double>

    /// The default camera of task `id`.
    public static func `default`(task id: String) -> TaskCamera {
        switch id {
        case "Hopper-v5": return TaskCamera(trackBody: 1, distance: 3.0, elevation: -20, azimuth: 90, lookat: [0, 0, 1.15])
        case "Walker2d-v5": return TaskCamera(trackBody: 1, distance: 4.0, elevation: -20, azimuth: 90, lookat: [0, 0, 1.15])
        case "Humanoid-v5": return TaskCamera(trackBody: 1, distance: 4.0, elevation: -20, azimuth: 90, lookat: [0, 0, 2.0])
        case "HalfCheetah-v5", "Ant-v5": return TaskCamera(trackBody: 1, distance: 4.0, elevation: -25, azimuth: 90, lookat: [0, 0, 0])
        case "Swimmer-v5": return TaskCamera(trackBody: 1, distance: 3.0, elevation: -45, azimuth: 90, lookat: [0, 0, 0])
        case "InvertedPendulum-v5": return TaskCamera(trackBody: 0, distance: 2.04, elevation: -10, azimuth: 90, lookat: [0, 0, 0.3])
        default: return TaskCamera(trackBody: 0, distance: 4.1225, elevation: -10, azimuth: 90, lookat: [0, 0, 0.6])
        }
    }
}

/// MuJoCo's own renderer in a headless OpenGL context (EGL, Mesa's surfaceless platform), drawing
/// the state of a task's `MuJoCoData` into RGB24 frames (top row first).
///
/// Use it on one thread (the one that created it: the GL context is current there). It renders
/// with its own copy of the task's model, whose offscreen buffer is sized for width x height.
public final class OffscreenRenderer {
    public let width: Int
    public let height: Int
    private let model: MuJoCoModel
    private let gl: UnsafeMutablePointer<satr_gl>
    private let renderer: UnsafeMutablePointer<satr_renderer>

    /// A renderer for task `taskID` at `width` x `height` pixels with the task's default camera, or
    /// the model's camera `camera`. `shadows` turns on shadows and reflections (slow on a software
    /// GL driver).
    ///
    /// - Throws: `RenderError.noGLContext` without a headless GL context, `.unknownCamera`,
    ///   `.renderer`.
    public init(taskID: String, width: Int, height: Int, camera: String? = nil, shadows: Bool = false, multisamples: Int = 4) throws {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        let spec = try TaskRegistry.spec(id: taskID)
        // A private copy of the model: the offscreen buffer size and multisampling are model fields.
        model = try MuJoCoModel(contentsOf: ModelFile.url(named: spec.modelName))
        model.pointer.pointee.vis.global.offwidth = Int32(width)
        model.pointer.pointee.vis.global.offheight = Int32(height)
        model.pointer.pointee.vis.quality.offsamples = Int32(multisamples)
        var message = [CChar](repeating: 0, count: 512)
        guard let context = satr_gl_create(&message, Int32(message.count)) else {
            throw RenderError.noGLContext(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        gl = context
        var made: UnsafeMutablePointer<satr_renderer>? = nil
        let status = satr_guarded_renderer_create(model.pointer, Int32(width), Int32(height), shadows ? 1 : 0, &made)
        guard status == 0, let made else {
            satr_renderer_free(made)
            satr_gl_destroy(context)
            throw RenderError.renderer(String(cString: satr_mj_last_error_message()))
        }
        renderer = made
        guard Int(satr_renderer_offscreen_width(made)) >= width, Int(satr_renderer_offscreen_height(made)) >= height else {
            let w = satr_renderer_offscreen_width(made), h = satr_renderer_offscreen_height(made)
            satr_renderer_free(made)
            satr_gl_destroy(context)
            throw RenderError.renderer("the offscreen buffer is \(w)x\(h), smaller than \(width)x\(height)")
        }
        if let camera {
            let id = mj_name2id(model.pointer, Int32(mjOBJ_CAMERA.rawValue), camera)
            guard id >= 0 else {
                let names = (0..<Int(model.pointer.pointee.ncam)).compactMap { model.name(of: mjOBJ_CAMERA, id: $0) }
                satr_renderer_free(made)
                satr_gl_destroy(context)
                throw RenderError.unknownCamera(camera, known: names)
            }
            satr_renderer_fixed(made, id)
        } else {
            let c = TaskCamera.default(task: taskID)
            var lookat = [c.lookat.x, c.lookat.y, c.lookat.z]
            satr_renderer_track(made, Int32(c.trackBody), c.distance, c.elevation, c.azimuth, &lookat)
        }
    }

    deinit {
        satr_renderer_free(renderer)
        satr_gl_destroy(gl)
    }

    /// Renders the current state of `data` (of the same task) into `pixels` (width x height x 3
    /// bytes, RGB, top row first), with `overlay` (left column, right column) text in the top-left
    /// corner when given.
    public func render(_ data: MuJoCoData, overlay: (String, String)? = nil, into pixels: UnsafeMutableBufferPointer<UInt8>) throws {
        precondition(pixels.count == width * height * 3, "expected \(width * height * 3) bytes")
        guard let out = pixels.baseAddress else { return }
        let status: Int32
        if let overlay {
            status = satr_guarded_render_frame(renderer, model.pointer, data.pointer, overlay.0, overlay.1, out)
        } else {
            status = satr_guarded_render_frame(renderer, model.pointer, data.pointer, nil, nil, out)
        }
        if status != 0 { throw RenderError.renderer(String(cString: satr_mj_last_error_message())) }
    }
}
