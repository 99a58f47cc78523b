/// Appends values to a byte buffer in a fixed little-endian layout. Doubles are written as their
/// IEEE-754 bit patterns, so a value read back with ``ByteReader`` is bit-identical (NaN payloads,
/// signed zeros and subnormals included).
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    public mutating func write(_ value: Int) { write(Int64(value)) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ value: Float) { write(UInt64(value.bitPattern)) }

    /// Writes the count, then the elements.
    public mutating func write(_ values: [Double]) {
        write(values.count)
        bytes.reserveCapacity(bytes.count + 8 * values.count)
        for v in values { write(v) }
    }
    /// Writes the count, then the elements.
    public mutating func write(_ values: [Int64]) {
        write(values.count)
        for v in values { write(v) }
    }
    /// Writes the count, then the raw bytes.
    public mutating func write(bytes values: [UInt8]) {
        write(values.count)
        bytes.append(contentsOf: values)
    }
}

/// Reads what ``ByteWriter`` wrote, in the same order.
///
/// Edge Cases: every read throws ``ClusterError/malformedMessage(_:)`` when the buffer ends early
/// or a count is negative or larger than the bytes left; it never traps on bad input.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    /// The index of the next unread byte.
    public private(set) var offset: Int = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// True when every byte has been read.
    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readUInt64() throws -> UInt64 {
        guard bytes.count - offset >= 8 else {
            throw ClusterError.malformedMessage("needed 8 bytes at offset \(offset), \(bytes.count - offset) left")
        }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return value
    }
    public mutating func readInt64() throws -> Int64 { Int64(bitPattern: try readUInt64()) }
    public mutating func readInt() throws -> Int {
        let v = try readInt64()
        guard let i = Int(exactly: v) else { throw ClusterError.malformedMessage("integer \(v) out of range") }
        return i
    }
    public mutating func readDouble() throws -> Double { Double(bitPattern: try readUInt64()) }
    public mutating func readFloat() throws -> Float {
        let v = try readUInt64()
        guard v <= UInt64(UInt32.max) else { throw ClusterError.malformedMessage("Float bit pattern \(v) too wide") }
        return Float(bitPattern: UInt32(v))
    }

    private mutating func readCount(elementSize: Int) throws -> Int {
        let n = try readInt()
        guard n >= 0, n <= (bytes.count - offset) / elementSize else {
            throw ClusterError.malformedMessage("count \(n) at offset \(offset - 8) exceeds the \(bytes.count - offset) bytes left")
        }
        return n
    }
    public mutating func readDoubles() throws -> [Double] {
        let n = try readCount(elementSize: 8)
        var out = [Double](); out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readDouble()) }
        return out
    }
    public mutating func readInt64s() throws -> [Int64] {
        let n = try readCount(elementSize: 8)
        var out = [Int64](); out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readInt64()) }
        return out
    }
    public mutating func readBytes() throws -> [UInt8] {
        let n = try readCount(elementSize: 1)
        defer { offset += n }
        return Array(bytes[offset ..< offset + n])
    }
}
