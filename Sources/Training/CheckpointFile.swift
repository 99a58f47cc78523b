import Foundation

/// The on-disk container of a checkpoint: a fixed header that lets a reader refuse a wrong,
/// truncated or corrupted file before decoding anything, then a JSON payload.
///
///     offset  size  field
///     0       8     magic "SATRCKPT" (ASCII)
///     8       4     format version, UInt32 little-endian (`CheckpointFile.formatVersion`)
///     12      8     payload length in bytes, UInt64 little-endian
///     20      8     FNV-1a 64-bit hash of the payload, UInt64 little-endian
///     28      ...   payload: UTF-8 JSON (sorted keys; Float64 values written in their shortest
///                   round-trip form, so decoding gives back the same bits)
public enum CheckpointFile {
    /// The current format version. Bump it whenever the payload's meaning changes.
    public static let formatVersion: UInt32 = 2
    static let magic = Array("SATRCKPT".utf8)
    static let headerSize = 28

    /// Wraps `payload` in the container.
    public static func encode(payload: Data) -> Data {
        var data = Data(capacity: headerSize + payload.count)
        data.append(contentsOf: magic)
        appendLittleEndian(formatVersion, to: &data)
        appendLittleEndian(UInt64(payload.count), to: &data)
        appendLittleEndian(fnv1a64(payload), to: &data)
        data.append(payload)
        return data
    }

    /// Checks the container and returns its payload.
    ///
    /// Throws `CheckpointError` saying what is wrong: not a checkpoint, another format version,
    /// truncated (or with trailing bytes), or a payload that does not match its hash.
    public static func decode(_ data: Data, path: String) throws -> Data {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw CheckpointError.notACheckpoint(path: path)
        }
        guard bytes.count >= headerSize else {
            throw CheckpointError.truncated(path: path, expected: headerSize, actual: bytes.count)
        }
        let version = UInt32(readLittleEndian(bytes, at: 8, size: 4))
        guard version == formatVersion else {
            throw CheckpointError.unsupportedVersion(path: path, found: version, expected: formatVersion)
        }
        let length = readLittleEndian(bytes, at: 12, size: 8)
        let hash = readLittleEndian(bytes, at: 20, size: 8)
        let actual = bytes.count - headerSize
        guard length == UInt64(actual) else {
            throw CheckpointError.truncated(path: path, expected: Int(clamping: length) + headerSize, actual: bytes.count)
        }
        let payload = Data(bytes[headerSize...])
        guard fnv1a64(payload) == hash else {
            throw CheckpointError.corrupt(path: path, reason: "the payload does not match its hash (the file was modified or damaged)")
        }
        return payload
    }

    /// FNV-1a, 64-bit: `h = 0xcbf29ce484222325; for b in bytes { h = (h ^ b) * 0x100000001b3 }`.
    public static func fnv1a64(_ data: Data) -> UInt64 {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> UInt64 in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes {
                h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
            }
            return h
        }
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    static func readLittleEndian(_ bytes: [UInt8], at offset: Int, size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}

/// Why a checkpoint was refused. Every message names the file and what is wrong with it.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case notACheckpoint(path: String)
    case unsupportedVersion(path: String, found: UInt32, expected: UInt32)
    case truncated(path: String, expected: Int, actual: Int)
    case corrupt(path: String, reason: String)
    case mismatch(path: String, field: String, checkpoint: String, requested: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no checkpoint at \(path) (is this the output directory of a `satr train` run?)"
        case .notACheckpoint(let path):
            return "\(path) is not a SATR checkpoint (wrong magic bytes)"
        case .unsupportedVersion(let path, let found, let expected):
            let writer = found == 1 ? " (written by satr before the configuration redesign, commit 22ef057 or earlier: continue it with that build)" : ""
            return "\(path) has checkpoint format version \(found)\(writer); this build reads version \(expected)"
        case .truncated(let path, let expected, let actual):
            return "\(path) is truncated or damaged: \(actual) bytes, the header says \(expected)"
        case .corrupt(let path, let reason):
            return "\(path) is corrupt: \(reason)"
        case .mismatch(let path, let field, let checkpoint, let requested):
            return "\(path) does not match this run: its \(field) is \(checkpoint), but \(requested) was requested"
        }
    }
}
