public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files that hold secrets (signing seeds, passwords, shared secrets) are readable by their owner
/// only from their first byte: they are opened with mode 0600, never written and then chmod-ed
/// (between the two, anyone on the machine may open the file and keep the descriptor for good).
/// Folders made for them are 0700. The one place every part writes such a file.
public enum SecretFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let reason: String

        public var description: String { "\(path): \(reason)" }
    }

    /// Writes `data` to `url`, replacing whatever is there: a new 0600 file beside it, written,
    /// flushed and renamed over it, so a reader finds the old content or the new, and a file that
    /// was once readable by others is replaced, not reused. The folder must exist.
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        try writeNewFile(data, at: temporary)
        guard rename(temporary, url.path) == 0 else {
            let reason = lastErrorText()
            unlink(temporary)
            throw Failure(path: url.path, reason: reason)
        }
    }

    /// Creates `url` with `data`, and fails when a file is already there: a key is never
    /// overwritten by mistake. The folder must exist.
    public static func create(_ data: Data, at url: URL) throws {
        try writeNewFile(data, at: url.path)
    }

    /// Makes `url` and the folders above it that are missing, each 0700. Folders already there
    /// are left as they are.
    public static func makeDirectory(at url: URL) throws {
        let target = url.standardizedFileURL.path
        var path = target.hasPrefix("/") ? "" : "."
        for component in target.split(separator: "/") {
            path += "/" + String(component)
            if mkdir(path, 0o700) != 0, errno != EEXIST {
                throw Failure(path: path, reason: lastErrorText())
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(path: url.path, reason: "not a folder")
        }
    }

    /// open(2) with O_CREAT|O_EXCL and mode 0600 (the umask may only narrow it), then every byte,
    /// then fsync; on any failure the half-written file is removed.
    private static func writeNewFile(_ data: Data, at path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(path: path, reason: lastErrorText()) }
        let failure = writeAll(data, to: descriptor) ?? (fsync(descriptor) == 0 ? nil : lastErrorText())
        close(descriptor)
        if let failure {
            unlink(path)
            throw Failure(path: path, reason: failure)
        }
    }
}

/// Every byte of `data` to `descriptor`; the reason when it fails. (At file scope: inside
/// `SecretFile`, `write` would name its own method.)
private func writeAll(_ data: Data, to descriptor: Int32) -> String? {
    data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> String? in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return lastErrorText()
            }
            offset += written
        }
        return nil
    }
}

private func lastErrorText() -> String {
    String(cString: strerror(errno))
}
