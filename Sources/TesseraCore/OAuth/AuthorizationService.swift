import Foundation
import Logging

/// The authorization code flow behind `/oauth2/authorize` and the `authorization_code`
/// grant: SSO sessions, codes (single use, 60 s, bound to client, redirect URI and PKCE
/// challenge) and their redemption.
public struct AuthorizationService: Sendable {
    public typealias Store = AuthorizationCodeStore & SSOSessionStore & UserStore

    public static let codeLifetime: TimeInterval = 60

    let settings: Settings
    let store: any Store
    let accounts: AccountService
    let crypto: any CryptoPrimitives
    let now: Now
    let logger: Logger

    public init(settings: Settings, store: any Store, accounts: AccountService, crypto: any CryptoPrimitives, now: @escaping Now, logger: Logger) {
        self.settings = settings
        self.store = store
        self.accounts = accounts
        self.crypto = crypto
        self.now = now
        self.logger = logger
    }

    // MARK: Sessions

    /// The live SSO session behind a session cookie value.
    public func session(cookie: String?) async throws -> (id: String, user: User, authTime: Date)? {
        guard let cookie, !cookie.isEmpty else { return nil }
        return try await store.session(tokenHash: hash(cookie), now: now())
    }

    /// Starts an SSO session for a user who just logged in; returns the cookie value.
    public func startSession(user: User, authTime: Date) async throws -> (id: String, cookie: String) {
        let cookie = Base64URL.encode(crypto.randomBytes(32))
        let id = RandomIdentifier.make(using: crypto)
        try await store.createSession(
            id: id, tokenHash: hash(cookie), userID: user.id, authTime: authTime, expiresAt: authTime.addingTimeInterval(settings.sessionTTL), now: now())
        logger.info("sso session started", metadata: ["user.id": "\(user.id)"])
        return (id, cookie)
    }

    public func endSession(cookie: String?) async throws {
        guard let cookie, !cookie.isEmpty else { return }
        try await store.endSession(tokenHash: hash(cookie), now: now())
    }

    /// Whether a session authenticated at `authTime` satisfies `prompt` and `max_age`.
    public func sessionSatisfies(_ request: AuthorizationRequest, authTime: Date) -> Bool {
        if request.prompt.contains("login") { return false }
        if let maxAge = request.maxAge, now().timeIntervalSince(authTime) > TimeInterval(maxAge) { return false }
        return true
    }

    // MARK: Codes

    /// Issues a code for `user` and returns the redirect to the client.
    public func issueCode(for request: AuthorizationRequest, user: User, authTime: Date, sessionID: String?) async throws -> String {
        let code = Base64URL.encode(crypto.randomBytes(32))
        let now = now()
        try await store.createCode(hash(code), AuthorizationCodeRecord(
            clientID: request.client.id, userID: user.id, redirectURI: request.redirectURI, scope: request.scope.description,
            nonce: request.nonce, codeChallenge: request.codeChallenge, authTime: authTime, sessionID: sessionID,
            expiresAt: now.addingTimeInterval(Self.codeLifetime)), now: now)
        logger.info("authorization code issued", metadata: ["user.id": "\(user.id)", "client.id": "\(request.client.id)"])
        return request.redirect(with: [("code", code)], issuer: settings.issuer)
    }

    /// The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6). A code presented twice
    /// fails and revokes what it issued.
    public func redeem(code: String, client: Client, redirectURI: String?, verifier: String?) async throws -> IssuedTokens {
        let now = now()
        let familyID = RandomIdentifier.make(using: crypto)
        let jti = RandomIdentifier.make(using: crypto)
        let accessExpires = now.addingTimeInterval(client.accessTokenTTL ?? settings.accessTokenTTL)
        let refreshAllowed = client.grants.contains(.refreshToken)
        let outcome = try await store.redeemCode(hash(code), clientID: client.id, planned: { record in
            let offline = (Scope(parsing: record.scope) ?? Scope([])).contains(Scope.offlineAccess)
            return PlannedIssue(familyID: offline && refreshAllowed ? familyID : nil, accessJTI: jti, accessExpiresAt: accessExpires)
        }, now: now)
        let record: AuthorizationCodeRecord
        switch outcome {
        case .refused(let reason):
            throw OAuthError.invalidGrant(reason: reason)
        case .replayed:
            logger.warning("authorization code replayed: its tokens are revoked", metadata: ["client.id": "\(client.id)"])
            throw OAuthError.invalidGrant(reason: "code replayed")
        case .redeemed(let redeemed):
            record = redeemed
        }
        if let redirectURI {
            guard redirectURI == record.redirectURI else { throw OAuthError.invalidGrant(reason: "redirect_uri differs") }
        } else if client.redirectURIs != [record.redirectURI] {
            throw OAuthError.invalidRequest("redirect_uri is required")
        }
        switch (record.codeChallenge, verifier) {
        case (.some(let challenge), .some(let verifier)):
            guard PKCE.verify(verifier, challenge: challenge, using: crypto) else { throw OAuthError.invalidGrant(reason: "PKCE verifier does not match") }
        case (.some, nil):
            throw OAuthError.invalidGrant(reason: "code_verifier missing")
        case (nil, .some):
            throw OAuthError.invalidGrant(reason: "code_verifier for a code issued without PKCE")
        case (nil, nil):
            break
        }
        guard let user = try await store.user(id: record.userID), user.status == .active else {
            throw OAuthError.invalidGrant(reason: "user cannot sign in")
        }
        let scope = Scope(parsing: record.scope) ?? Scope([])
        let audience = accounts.clients.audience(for: client)
        if scope.contains(Scope.offlineAccess) && refreshAllowed {
            return try await accounts.startFamily(
                user: user, clientID: client.id, audience: audience, scope: scope, authTime: record.authTime, nonce: record.nonce,
                familyID: familyID, jti: jti, lifetime: client.accessTokenTTL, now: now)
        }
        return try accounts.issuer.issue(
            user: user, clientID: client.id, audience: audience, scope: scope, authTime: record.authTime, nonce: record.nonce, jti: jti,
            lifetime: client.accessTokenTTL, now: now)
    }

    private func hash(_ secret: String) -> TokenHash {
        TokenHash(bytes: crypto.sha256(Array(secret.utf8)))
    }
}
