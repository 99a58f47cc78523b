import Foundation

/// A parsed JSON document, for merging layers of settings (defaults, preset, config file, flags)
/// key by key before they are decoded into typed values.
///
/// Integers are kept apart from other numbers so that a 64-bit seed survives a round trip; a
/// number with a fraction or exponent is a `double`.
public enum JSONTree: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .int(v) }
        else if let v = try? c.decode(UInt64.self) { self = .unsigned(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONTree].self) { self = .array(v) }
        else { self = .object(try c.decode([String: JSONTree].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .unsigned(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }

    /// The members of an object (nil for any other value).
    public var object: [String: JSONTree]? {
        if case .object(let fields) = self { return fields }
        return nil
    }

    /// `value` as a tree, encoded with `encoder` (whose key strategy names the keys).
    public static func of<T: Encodable>(_ value: T, encoder: JSONEncoder = JSONCoding.encoder()) throws -> JSONTree {
        try JSONCoding.decoder().decode(JSONTree.self, from: encoder.encode(value))
    }

    /// Decodes this tree as a `T` with `decoder`.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONCoding.decoder()) throws -> T {
        try decoder.decode(T.self, from: JSONCoding.encoder().encode(self))
    }

    /// Compact text of the value (sorted keys), for messages.
    public var text: String {
        (try? JSONCoding.encoder().encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "?"
    }
}

/// The project's JSON settings, configured once: sorted keys, no escaped slashes, non-finite
/// numbers as the strings "inf", "-inf", "nan" (checkpoints, configs, bench output, traces).
public enum JSONCoding {
    /// Compact, sorted keys.
    public static func encoder(pretty: Bool = false, snakeCase: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        if snakeCase { e.keyEncodingStrategy = .convertToSnakeCase }
        return e
    }

    /// The matching decoder.
    public static func decoder(snakeCase: Bool = false) -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        if snakeCase { d.keyDecodingStrategy = .convertFromSnakeCase }
        return d
    }
}
