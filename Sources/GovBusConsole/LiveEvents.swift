import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Server-sent events that tell open pages the bus has moved (`GET /api/events`): a `change`
/// event whenever the core records a message (heartbeats aside) or the dead letters waiting
/// change, so that a page draws itself again at once instead of polling. Each event says when it
/// was sent, so that a page can measure how late it is.
///
/// One watcher reads the store four times a second while anyone listens, whatever the number of
/// pages, and hands each change to every stream. A session has at most `streamsPerSession`
/// streams; each stream checks every `keepAliveInterval` (with a comment line, which also keeps
/// proxies from closing a quiet stream) that its session is still valid, and ends when it is not.
final class LiveEvents: Sendable {
    static let checkInterval = Duration.milliseconds(250)
    static let keepAliveInterval = Duration.seconds(15)
    static let streamsPerSession = 8

    struct Change: Codable, Equatable, Sendable {
        var sequence: Int64
        var deadLettersWaiting: Int
        /// Milliseconds since 1970.
        var sentAt: Int64 = 0

        func sameState(as other: Change?) -> Bool {
            sequence == other?.sequence && deadLettersWaiting == other?.deadLettersWaiting
        }
    }

    /// What a stream writes: a change, or a comment when nothing changed for a while.
    private enum Event: Sendable {
        case change(Change)
        case keepAlive
    }

    private struct Listeners {
        var streams: [UUID: (session: String, continuation: AsyncStream<Event>.Continuation)] = [:]
        var last: Change?
        var lastSent = ContinuousClock.now
        var watching = false
    }

    private let core: CoreDataReader
    private let archive: DeadLetterArchive
    private let sessions: Sessions
    private let listeners = Mutex(Listeners())

    init(core: CoreDataReader, archive: DeadLetterArchive, sessions: Sessions) {
        self.core = core
        self.archive = archive
        self.sessions = sessions
    }

    /// The stream for a session: 429 past its share.
    func response(session token: String) throws -> Response {
        let id = UUID()
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1))
        let (admitted, startWatcher, last) = listeners.withLock { listeners -> (Bool, Bool, Change?) in
            guard listeners.streams.values.filter({ $0.session == token }).count < Self.streamsPerSession else {
                return (false, false, nil)
            }
            listeners.streams[id] = (token, continuation)
            defer { listeners.watching = true }
            return (true, !listeners.watching, listeners.last)
        }
        guard admitted else {
            throw HTTPError(.tooManyRequests, message: "this session has \(Self.streamsPerSession) live pages open already")
        }
        // The state now, at once: the page draws what it has missed since it loaded.
        if let last { continuation.yield(.change(last)) }
        if startWatcher { Task { await self.watch() } }
        continuation.onTermination = { [weak self] _ in
            _ = self?.listeners.withLock { $0.streams.removeValue(forKey: id) }
        }
        let encoder = JSONEncoder()
        return Response(
            status: .ok,
            // No buffering by a proxy in front: each event must go at once.
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"],
            body: ResponseBody { [sessions] writer in
                // A write to a client gone fails, and ends the stream (within a keep-alive).
                defer { continuation.finish() }
                for await event in events {
                    guard sessions.session(token) != nil else { break }
                    switch event {
                    case .change(let change):
                        let data = String(decoding: try encoder.encode(change), as: UTF8.self)
                        try await writer.write(ByteBuffer(string: "event: change\ndata: \(data)\n\n"))
                    case .keepAlive:
                        try await writer.write(ByteBuffer(string: ": still here\n\n"))
                    }
                }
                try await writer.finish(nil)
            })
    }

    /// Reads the store while anyone listens; stops when the last stream has ended.
    private func watch() async {
        while true {
            let anyone = listeners.withLock { listeners in
                if listeners.streams.isEmpty { listeners.watching = false }
                return !listeners.streams.isEmpty
            }
            guard anyone else { return }
            let read = try? Change(sequence: core.lastRecordedSequence(), deadLettersWaiting: archive.waitingCount())
            listeners.withLock { listeners in
                if var change = read, !change.sameState(as: listeners.last) {
                    change.sentAt = Int64(Date().timeIntervalSince1970 * 1000)
                    listeners.last = change
                    listeners.lastSent = .now
                    for (_, stream) in listeners.streams { stream.continuation.yield(.change(change)) }
                } else if ContinuousClock.now - listeners.lastSent >= Self.keepAliveInterval {
                    listeners.lastSent = .now
                    for (_, stream) in listeners.streams { stream.continuation.yield(.keepAlive) }
                }
            }
            try? await Task.sleep(for: Self.checkInterval)
        }
    }
}
