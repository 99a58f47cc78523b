import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename
/// it over the destination, fsync the directory. A reader sees either the old or the new file,
/// never a partial one, even if the process or the machine stops in between.
public enum AtomicFile {
    /// Writes `data` to `url` atomically and durably.
    ///
    /// Postconditions: on success `url` holds exactly `data`; on failure `url` is unchanged and no
    /// temporary file is left behind.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw IOError.system("cannot create \(temporary.path)", errno) }
        var ok = false
        defer {
            if !ok { unlink(temporary.path) }
        }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc_write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw IOError.system("cannot write \(temporary.path)", errno)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw IOError.system("cannot fsync \(temporary.path)", errno) }
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw IOError.system("cannot rename \(temporary.path) to \(url.path)", errno)
        }
        ok = true
        let dfd = open(directory.path, O_RDONLY)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Glibc.write(fd, buffer, count)
    #endif
}

/// A file-system error with the OS's reason.
public struct IOError: Error, CustomStringConvertible {
    public var description: String
    static func system(_ what: String, _ code: Int32) -> IOError {
        IOError(description: "\(what): \(String(cString: strerror(code)))")
    }
}
