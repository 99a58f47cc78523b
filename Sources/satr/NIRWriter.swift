import CHDF5
import Foundation
import Training

/// Writes a `NIRGraph` in NIR's HDF5 file layout with the HDF5 C library:
///
/// ```
/// /version                      string, the NIR version the layout follows
/// /node/type                    "NIRGraph"
/// /node/nodes/<name>/type       the node's NIR type ("CubaLIF", "Linear", ...)
/// /node/nodes/<name>/<param>    its parameters (Float64 / Int64 arrays)
/// /node/nodes/<name>/metadata/  optional metadata datasets
/// /node/edges                   E x 2 strings (source, target)
/// /node/metadata/               graph metadata datasets
/// ```
///
/// Strings are variable-length UTF-8 (what `nir.read` / h5py expect). The file is written to a
/// temporary name beside `url` and renamed over it only when complete.
enum NIRFileWriter {
    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ graph: NIRGraph, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        satr_h5_quiet()
        let file = satr_h5_create_file(temporary.path)
        guard file >= 0 else { throw WriteError(description: "cannot create \(temporary.path) (HDF5 could not open it for writing)") }
        var closed = false
        defer {
            if !closed { _ = satr_h5_close_file(file) }
        }
        do {
            try writeString(file, "version", NIRGraph.nirVersion)
            let root = try group(file, "node")
            try writeString(root, "type", "NIRGraph")
            let nodes = try group(root, "nodes")
            for node in graph.nodes {
                let g = try group(nodes, node.name)
                try writeString(g, "type", node.type)
                for (key, value) in node.parameters.sorted(by: { $0.key < $1.key }) { try writeValue(g, key, value) }
                if !node.metadata.isEmpty { try writeMetadata(g, node.metadata) }
                try close(g)
            }
            try close(nodes)
            let flat = graph.edges.flatMap { [$0.0, $0.1] }
            try writeStrings(root, "edges", shape: [graph.edges.count, 2], flat)
            if !graph.metadata.isEmpty { try writeMetadata(root, graph.metadata) }
            try close(root)
            closed = true
            guard satr_h5_close_file(file) >= 0 else { throw WriteError(description: "HDF5 could not finish \(temporary.path)") }
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            if !closed { _ = satr_h5_close_file(file); closed = true }
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    private static func group(_ parent: hid_t, _ name: String) throws -> hid_t {
        let g = satr_h5_create_group(parent, name)
        guard g >= 0 else { throw WriteError(description: "HDF5 could not create group \(name)") }
        return g
    }

    private static func close(_ group: hid_t) throws {
        guard satr_h5_close_group(group) >= 0 else { throw WriteError(description: "HDF5 could not close a group") }
    }

    private static func writeMetadata(_ parent: hid_t, _ metadata: [String: NIRValue]) throws {
        let g = try group(parent, "metadata")
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { try writeValue(g, key, value) }
        try close(g)
    }

    private static func writeString(_ parent: hid_t, _ name: String, _ value: String) throws {
        try writeStrings(parent, name, shape: [], [value])
    }

    private static func writeStrings(_ parent: hid_t, _ name: String, shape: [Int], _ values: [String]) throws {
        // strdup'd C strings, freed after the write.
        let cStrings: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { for p in cStrings { free(p) } }
        guard cStrings.allSatisfy({ $0 != nil }) else { throw WriteError(description: "out of memory writing \(name)") }
        let dims = shape.map { hsize_t($0) }
        let status = cStrings.withUnsafeBufferPointer { strings in
            strings.withMemoryRebound(to: UnsafePointer<CChar>?.self) { pointers in
                dims.withUnsafeBufferPointer { d in
                    satr_h5_write_strings(parent, name, Int32(shape.count), d.baseAddress, pointers.baseAddress)
                }
            }
        }
        guard status >= 0 else { throw WriteError(description: "HDF5 could not write the string dataset \(name)") }
    }

    private static func writeValue(_ parent: hid_t, _ name: String, _ value: NIRValue) throws {
        func numbers<T>(_ kind: Int32, _ shape: [Int], _ values: [T]) throws {
            precondition(shape.reduce(1, *) == values.count, "NIR dataset \(name): shape \(shape) does not hold \(values.count) values")
            let dims = shape.map { hsize_t($0) }
            let status = values.withUnsafeBytes { raw in
                dims.withUnsafeBufferPointer { d in
                    satr_h5_write_numbers(parent, name, kind, Int32(shape.count), d.baseAddress, raw.baseAddress)
                }
            }
            guard status >= 0 else { throw WriteError(description: "HDF5 could not write the dataset \(name)") }
        }
        switch value {
        case .string(let s): try writeString(parent, name, s)
        case .float64(let shape, let values): try numbers(Int32(SATR_H5_FLOAT64), shape, values)
        case .float32(let shape, let values): try numbers(Int32(SATR_H5_FLOAT32), shape, values)
        case .int64(let shape, let values): try numbers(Int32(SATR_H5_INT64), shape, values)
        }
    }
}
