public import Foundation
import GovBus

/// `govbus bench validator`: how long validating one message takes with a compiled schema.
public enum ValidatorBenchmark {
    public struct Result: Codable, Sendable {
        public let type: String
        public let documentBytes: Int
        public let iterations: Int
        public let microsecondsPerValidation: Double
        public let validationsPerSecond: Double
        public let compileMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case type
            case documentBytes = "document_bytes"
            case iterations
            case microsecondsPerValidation = "us_per_validation"
            case validationsPerSecond = "validations_per_s"
            case compileMilliseconds = "catalog_compile_ms"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static func largestValidExample(of type: String, in schemas: URL) throws -> URL {
        let folder = schemas.appendingPathComponent("examples/\(type)")
        let candidates = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.fileSizeKey])
            .filter { $0.lastPathComponent.hasPrefix("valid") }
        guard let largest = try candidates.max(by: {
            try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0 < $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
        }) else { throw Failure(description: "no valid example in \(folder.path)") }
        return largest
    }

    /// Validates `document` (by default the type's largest valid example) `iterations` times; the
    /// best of five rounds is reported, the machine being shared.
    public static func run(
        schemas: URL, type: String, document: URL?, iterations: Int
    ) throws -> Result {
        let compileStart = ContinuousClock.now
        let catalog = try SchemaCatalog(folder: schemas)
        let compileTime = ContinuousClock.now - compileStart
        guard let schema = catalog.schema(for: type) else { throw Failure(description: "unknown type \(type)") }
        let file = try document ?? largestValidExample(of: type, in: schemas)
        let data = try Data(contentsOf: file)
        let instance = try JSONValue(parsing: data)
        let errors = schema.validate(instance)
        guard errors.isEmpty else { throw Failure(description: "\(file.path) is not valid: \(errors)") }

        var best = Duration.seconds(1_000_000)
        for _ in 0..<5 {
            let start = ContinuousClock.now
            var failures = 0
            for _ in 0..<iterations { failures += schema.validate(instance).count }
            let elapsed = ContinuousClock.now - start
            precondition(failures == 0)
            best = min(best, elapsed)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        return Result(
            type: type, documentBytes: data.count, iterations: iterations,
            microsecondsPerValidation: seconds / Double(iterations) * 1e6,
            validationsPerSecond: Double(iterations) / seconds,
            compileMilliseconds: Double(compileTime.components.attoseconds) / 1e15
                + Double(compileTime.components.seconds) * 1000)
    }
}
