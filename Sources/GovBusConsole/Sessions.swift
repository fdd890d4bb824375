import Foundation
import GovBus
import GovBusContracts
import Synchronization

/// Who is logged in: a random token in an HttpOnly, SameSite=Strict cookie, and for each a CSRF
/// token the pages send back in `X-CSRF-Token` with every action. Sessions end after 8 hours.
final class Sessions: Sendable {
    struct Session: Sendable {
        let name: String
        let role: ConsoleConfiguration.Role
        let csrfToken: String
        let expires: Date
    }

    static let cookieName = "govbus_session"
    static let lifetime: TimeInterval = 8 * 3600
    private let sessions = Mutex<[String: Session]>([:])

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.lowercaseHex
    }

    func start(name: String, role: ConsoleConfiguration.Role) -> (token: String, session: Session) {
        let token = Self.randomToken()
        let session = Session(name: name, role: role, csrfToken: Self.randomToken(), expires: Date().addingTimeInterval(Self.lifetime))
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > Date() }
            sessions[token] = session
        }
        return (token, session)
    }

    func session(_ token: String?) -> Session? {
        guard let token else { return nil }
        return sessions.withLock { sessions in
            guard let session = sessions[token], session.expires > Date() else {
                sessions[token] = nil
                return nil
            }
            return session
        }
    }

    func end(_ token: String?) {
        guard let token else { return }
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }
}
