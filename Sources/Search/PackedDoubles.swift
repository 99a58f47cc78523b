import Foundation

/// A `[Double]` that encodes compactly and exactly: one base64 string of the values' IEEE-754
/// bit patterns, 8 little-endian bytes per value, in order.
///
/// The optimizer states hold several arrays of one value per searched parameter (72k for a
/// Hopper network); written as JSON number arrays they dominated a checkpoint's cost (in
/// `satr bench train` on Hopper the checkpointing generation ran at a ratio of about 0.67 against
/// about 0.95 for the others). As bytes every value
/// round-trips bit for bit (signed zeros, subnormals, NaN payloads and infinities included).
/// Decoding also accepts a plain array of numbers, so hand-written states stay readable.
@propertyWrapper
public struct PackedDoubles: Sendable, Equatable, Codable {
    public var wrappedValue: [Double]

    public init(wrappedValue: [Double]) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let plain = try? container.decode([Double].self) {
            wrappedValue = plain
            return
        }
        let text = try container.decode(String.self)
        guard let bytes = Data(base64Encoded: text), bytes.count % 8 == 0 else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected base64 of 8-byte little-endian doubles")
        }
        let count = bytes.count / 8
        wrappedValue = bytes.withUnsafeBytes { raw in
            (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var bytes = Data(count: 8 * wrappedValue.count)
        bytes.withUnsafeMutableBytes { raw in
            for (i, value) in wrappedValue.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
            }
        }
        var container = encoder.singleValueContainer()
        try container.encode(bytes.base64EncodedString())
    }
}
