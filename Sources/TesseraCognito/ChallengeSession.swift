import Foundation
import TesseraCore

/// The `Session` of an auth challenge: which user, client and challenge it continues, until
/// when — sealed (AES-256-GCM under the keys dir's sealing key), so the server keeps no state
/// and a caller can neither read nor forge one.
struct ChallengeSession: Codable, Equatable {
    var challenge: String
    var userID: String
    var clientID: String
    /// Seconds since the epoch after which the session is refused (Cognito's are 3 minutes).
    var expires: Int
    /// Server state a challenge carries (SRP's `b`), hex.
    var state: String?

    static let lifetime = 180
    static let context = "cognito-challenge-session"

    func sealed(with sealer: any SecretSealer) throws -> String {
        Base64URL.encode(try sealer.seal(Array(try JSONEncoder().encode(self)), context: Self.context))
    }

    /// The session a caller sent back, if it opens, is of `challenge` and `client`, and is current.
    static func open(_ text: String?, challenge: String, clientID: String, sealer: any SecretSealer, now: Date) throws(CognitoError) -> ChallengeSession {
        guard let text, let bytes = Base64URL.decode(text), let plain = try? sealer.open(Array(bytes), context: context),
              let session = try? JSONDecoder().decode(ChallengeSession.self, from: Data(plain)),
              session.challenge == challenge, session.clientID == clientID
        else { throw .notAuthorized("Invalid session for the user.") }
        guard session.expires > now.epochSeconds else { throw .notAuthorized("Invalid session for the user, session is expired.") }
        return session
    }
}
