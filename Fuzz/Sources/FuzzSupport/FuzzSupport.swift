public import AMQP
import CLibFuzzer
public import Foundation
public import GovBus

/// What the fuzz targets share: where the Schemas/ folder and the routes file are, how fuzz bytes
/// become an AMQP message, and how a broken invariant is reported (a crash libFuzzer keeps).

/// Stops the run: libFuzzer sees the trap, prints the stack and keeps the input as a crash file.
public func invariantBroken(_ what: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("fuzz invariant broken: \(what())", file: file, line: line)
}

public enum FuzzEnvironment {
    /// The Schemas/ folder: `GOVBUS_SCHEMAS` (scripts/fuzz sets it), else found above the
    /// current directory as the CLI does.
    public static let schemasFolder: URL = {
        guard let folder = SchemaCatalog.locateFolder() else {
            fatalError("set GOVBUS_SCHEMAS to the Schemas/ folder of the repository")
        }
        return folder
    }()

    /// The compiled message schemas, loaded once per process.
    public static let catalog: SchemaCatalog = {
        do {
            return try SchemaCatalog(folder: schemasFolder)
        } catch {
            fatalError("cannot load the schemas of \(schemasFolder.path): \(error)")
        }
    }()

    /// The routes file: `GOVBUS_ROUTES`, else config/routes.yaml beside the Schemas/ folder.
    public static let routesFile: URL = {
        if let configured = ProcessInfo.processInfo.environment["GOVBUS_ROUTES"] {
            return URL(fileURLWithPath: configured)
        }
        return schemasFolder.deletingLastPathComponent().appendingPathComponent("config/routes.yaml")
    }()

    /// `GOVBUS_FUZZ_VERBOSE=1`: the targets say what became of each input (to check seeds).
    public static let verbose = ProcessInfo.processInfo.environment["GOVBUS_FUZZ_VERBOSE"] == "1"

}

/// The sandbox keys of config/routes.yaml (seed = sha256("govbus-sandbox-<name>"), public by
/// design), by key id, so the harness can sign what it builds and reach the checks after the
/// signature.
public enum SandboxSeeds {
    public static let byKeyID: [String: String] = [
        "portal-sandbox": "yeNAsZlsuwz7DTAWZn2nHcgfXCBZqVFlh/wzvW2Hy9w=",
        "registry-sandbox": "025qhL0dxuQhUcmKu5QuIQpBocpLdHc9aZ9bZnrUV4Y=",
        "payment-sandbox": "+zxLOI1s8QrOgrWxy8kctuOng6DxC4r2HMiquwe5i/Q=",
        "document-sandbox": "DAfK3idgm45/bdvXZ2UXKtGaFIon/OJtuXLH5UCdW/k=",
        "console-sandbox": "KCgzJE9TBgoviwIkBJ5dV6lUHSy+cXEf1cn/JVMX6xU=",
    ]
    /// Any other key id signs with this one: a key the verifier does not hold for that id.
    public static let stranger = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
}

/// An AMQP message described by fuzz bytes: header lines `name=value` up to the first empty line,
/// then the body (every byte after it). Values are percent-decoded (`%0A` is a line feed), then
/// read as UTF-8 the way the AMQP client reads what the broker delivers (invalid bytes become
/// U+FFFD). A name that is not listed is ignored; a missing line leaves the property absent.
///
///     id, correlation, type, content-type, app, user     the AMQP properties
///     timestamp        decimal, read as the unsigned 64-bit AMQP timestamp
///     h:NAME=VALUE     a string header; hb:NAME=VALUE a byte-array header; hi:NAME=VALUE an int64 header
///     sign=KEY-ID      sign the message (after everything else above) with that key id: in
///                      FuzzIngressChecks a sandbox key (SandboxSeeds), or another key for any other
///                      id; in FuzzCanonicalForm, the key id of its fixed key
///     tamper=BYTES     after signing, append these bytes to the body
///
/// Input with no empty line is all body, with no properties.
public struct FuzzEnvelope {
    public var message: AMQPMessage
    public var signWith: String?
    public var tamper: [UInt8]?

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        var properties = AMQPProperties()
        var headers: AMQPTable = [:]
        var signWith: String?
        var tamper: [UInt8]?
        var body = Array(bytes)
        if let end = Self.emptyLine(in: bytes) {
            body = Array(bytes[(end + 2)...])
            for line in bytes[..<end].split(separator: 0x0A, omittingEmptySubsequences: true) {
                guard let equals = line.firstIndex(of: 0x3D) else { continue }
                let name = String(decoding: line[..<equals], as: UTF8.self)
                let raw = Self.percentDecoded(line[(equals + 1)...])
                let value = String(decoding: raw, as: UTF8.self)
                switch name {
                case "id": properties.messageID = value
                case "correlation": properties.correlationID = value
                case "type": properties.type = value
                case "content-type": properties.contentType = value
                case "app": properties.appID = value
                case "user": properties.userID = value
                case "timestamp":
                    // As CValues reads the property: an unsigned 64-bit count of seconds.
                    if let seconds = UInt64(value) {
                        properties.timestamp = Date(timeIntervalSince1970: Double(seconds))
                    }
                case "sign": signWith = value
                case "tamper": tamper = raw
                default:
                    if name.hasPrefix("h:") {
                        headers[String(name.dropFirst(2))] = .string(value)
                    } else if name.hasPrefix("hb:") {
                        headers[String(name.dropFirst(3))] = .bytes(raw)
                    } else if name.hasPrefix("hi:"), let number = Int64(value) {
                        headers[String(name.dropFirst(3))] = .int64(number)
                    }
                }
            }
        }
        properties.headers = headers.isEmpty ? nil : headers
        message = AMQPMessage(body: body, properties: properties)
        self.signWith = signWith
        self.tamper = tamper
    }

    /// The index of the first "\n\n".
    static func emptyLine(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 0x0A && bytes[index + 1] == 0x0A {
            return index
        }
        return nil
    }

    static func percentDecoded(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x25, index + 2 < bytes.endIndex,
                let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2])
            {
                result.append(high << 4 | low)
                index += 3
            } else {
                result.append(byte)
                index += 1
            }
        }
        return result
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

/// The fuzz input as a buffer (libFuzzer may pass a null pointer with size 0).
public func fuzzBuffer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
}

/// Runs libFuzzer's driver on `target` with the command line's options and corpus folders.
public func runLibFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}
