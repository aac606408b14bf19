import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error writing a report, naming the path and what the system said.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "cannot write report \(path): \(reason)" }
}

/// A buffered, append-only text file that is synced to disk before it is published.
public final class ReportFile {
    private let descriptor: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private var failure: ReportError?

    /// Creates (or truncates) the file.
    /// - Throws: `ReportError` naming the path when it cannot be created.
    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw ReportError(path: path, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(1 << 16)
    }

    /// Appends `text`; write errors are reported by ``close(sync:)``.
    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Appends bytes produced by `body` straight into the buffer (no intermediate `String`).
    public func appendBytes(_ body: (inout [UInt8]) -> Void) {
        body(&buffer)
        if buffer.count >= 1 << 16 { flush() }
    }

    private func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { bytes in
                Glibc.write(descriptor, bytes.baseAddress?.advanced(by: offset), bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                if failure == nil { failure = ReportError(path: path, reason: String(cString: strerror(errno))) }
                break
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, optionally syncs, and closes the file.
    /// - Throws: `ReportError` for the first write or sync failure.
    public func close(sync: Bool = true) throws {
        flush()
        if sync && fsync(descriptor) != 0 && failure == nil {
            failure = ReportError(path: path, reason: String(cString: strerror(errno)))
        }
        Glibc.close(descriptor)
        if let failure { throw failure }
    }
}

/// Writes a whole small file (summary.md and the like).
public func writeTextFile(_ text: String, to path: String) throws {
    let file = try ReportFile(path: path)
    file.write(text)
    try file.close(sync: true)
}
