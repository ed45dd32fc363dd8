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

    /// Whether `user`'s session, authenticated at `authTime`, answers the request: not when
    /// `prompt` asks for the sign-in form (`login`, `select_account`), when it is older than
    /// `max_age`, or when the request's `id_token_hint` names another user.
    public func sessionSatisfies(_ request: AuthorizationRequest, authTime: Date, user: User) -> Bool {
        if request.prompt.contains("login") || request.prompt.contains("select_account") { return false }
        if let hinted = request.hintedSubject, hinted != user.id { return false }
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

    /// The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6). Everything it issues is
    /// decided and stored in the transaction that spends the code, so a second presentation —
    /// even one racing the first — revokes all of it. A code of a user signed out everywhere
    /// since it was issued is refused.
    public func redeem(code: String, client: Client, redirectURI: String?, verifier: String?) async throws -> IssuedTokens {
        let now = now()
        let jti = RandomIdentifier.make(using: crypto)
        let familyID = RandomIdentifier.make(using: crypto)
        let refresh = RefreshToken.generate(using: crypto)
        let accessExpires = now.addingTimeInterval(client.accessTokenTTL ?? settings.accessTokenTTL)
        let (crypto, refreshTTL) = (crypto, settings.refreshTokenTTL)
        let outcome = try await store.redeemCode(hash(code), clientID: client.id, decide: { record, user in
            if let refusal = Self.refusal(of: record, user: user, client: client, redirectURI: redirectURI, verifier: verifier, crypto: crypto) {
                return .refuse(refusal)
            }
            let scope = Scope(parsing: record.scope) ?? Scope([])
            guard scope.contains(Scope.offlineAccess), client.grants.contains(.refreshToken) else {
                return .issue(PlannedIssue(accessJTI: jti, accessExpiresAt: accessExpires))
            }
            let family = RefreshTokenFamily(
                id: familyID, userID: record.userID, clientID: client.id, scope: record.scope, authTime: record.authTime,
                createdAt: now, expiresAt: now.addingTimeInterval(refreshTTL))
            return .issue(PlannedIssue(accessJTI: jti, accessExpiresAt: accessExpires, family: family, firstRefreshToken: refresh.hash(using: crypto)))
        }, now: now)
        let (record, user): (AuthorizationCodeRecord, User)
        switch outcome {
        case .refused(let error):
            throw error
        case .replayed:
            logger.warning("authorization code replayed: its tokens are revoked", metadata: ["client.id": "\(client.id)"])
            throw OAuthError.invalidGrant(reason: "code replayed")
        case .redeemed(let redeemedRecord, let redeemedUser):
            (record, user) = (redeemedRecord, redeemedUser)
        }
        let scope = Scope(parsing: record.scope) ?? Scope([])
        var tokens = try accounts.issuer.issue(
            user: user, clientID: client.id, audience: accounts.clients.audience(for: client), scope: scope, authTime: record.authTime,
            nonce: record.nonce, jti: jti, lifetime: client.accessTokenTTL,
            groups: try await accounts.groupClaim(userID: user.id, scope: scope), now: now)
        if scope.contains(Scope.offlineAccess), client.grants.contains(.refreshToken) {
            tokens.refreshToken = refresh
            tokens.refreshExpiresAt = now.addingTimeInterval(refreshTTL)
            logger.info("login", metadata: ["user.id": "\(user.id)", "client.id": "\(client.id)", "grant.family": "\(familyID)"])
        }
        accounts.metrics.tokensIssued(.authorizationCode)
        return tokens
    }

    /// Why a current code of this client must not be exchanged, if it must not: the redirect
    /// URI or PKCE verifier does not match, or its user cannot sign in (gone, not active, or
    /// signed out everywhere after the code's sign-in).
    static func refusal(
        of record: AuthorizationCodeRecord, user: User?, client: Client, redirectURI: String?, verifier: String?, crypto: any CryptoPrimitives
    ) -> OAuthError? {
        if let redirectURI {
            guard redirectURI == record.redirectURI else { return .invalidGrant(reason: "redirect_uri differs") }
        } else if client.redirectURIs != [record.redirectURI] {
            return .invalidRequest("redirect_uri is required")
        }
        switch (record.codeChallenge, verifier) {
        case (.some(let challenge), .some(let verifier)):
            guard PKCE.verify(verifier, challenge: challenge, using: crypto) else { return .invalidGrant(reason: "PKCE verifier does not match") }
        case (.some, nil):
            return .invalidGrant(reason: "code_verifier missing")
        case (nil, .some):
            return .invalidGrant(reason: "code_verifier for a code issued without PKCE")
        case (nil, nil):
            break
        }
        guard let user, user.status == .active else { return .invalidGrant(reason: "user cannot sign in") }
        if let notBefore = user.tokensNotBefore, notBefore >= record.authTime {
            return .invalidGrant(reason: "user signed out everywhere after this code's sign-in")
        }
        return nil
    }

    private func hash(_ secret: String) -> TokenHash {
        TokenHash(bytes: crypto.sha256(Array(secret.utf8)))
    }
}
