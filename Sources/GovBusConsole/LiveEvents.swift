import Foundation
import Hummingbird
import NIOCore

/// Server-sent events that tell open pages the bus has moved (`GET /api/events`): a `change`
/// event whenever the core records a message or the dead letters waiting change, so that a page
/// redraws at once instead of polling. Each event says when it was sent, so that a page can
/// measure how late it is. A comment every 15 s keeps proxies from closing a quiet stream.
enum LiveEvents {
    static let checkInterval = Duration.milliseconds(250)
    static let keepAliveInterval = Duration.seconds(15)

    struct Change: Codable, Equatable {
        var sequence: Int64
        var deadLettersWaiting: Int
    }

    static func response(core: CoreDataReader, archive: DeadLetterArchive) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                var last: Change?
                var quietSince = ContinuousClock.now
                while !Task.isCancelled {
                    let now = Change(sequence: try core.lastRecordedSequence(), deadLettersWaiting: try archive.waitingCount())
                    if now != last {
                        let sentAt = Int64(Date().timeIntervalSince1970 * 1000)
                        let data = #"{"sequence":\#(now.sequence),"deadLettersWaiting":\#(now.deadLettersWaiting),"sentAt":\#(sentAt)}"#
                        try await writer.write(ByteBuffer(string: "event: change\ndata: \(data)\n\n"))
                        last = now
                        quietSince = .now
                    } else if ContinuousClock.now - quietSince > keepAliveInterval {
                        try await writer.write(ByteBuffer(string: ": still here\n\n"))
                        quietSince = .now
                    }
                    do {
                        try await Task.sleep(for: checkInterval)
                    } catch {
                        break
                    }
                }
                try await writer.finish(nil)
            })
    }
}
