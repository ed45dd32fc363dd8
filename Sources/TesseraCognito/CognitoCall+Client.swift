import Foundation
import TesseraCore

/// The client-facing operations (contract §11.3): an app client, no SigV4.
extension CognitoCall {
    // MARK: Sign-up and confirmation

    func signUp() async throws -> [String: Any] {
        let client = try await appClient()
        let username = try input.required("Username")
        let password = try input.required("Password")
        try checkSecretHash(try input.string("SecretHash"), client: client, usernames: [username])
        let attributes = try input.attributes("UserAttributes")
        if let email = attributes.first(where: { $0.name == "email" })?.value, email.lowercased() != username.lowercased() {
            throw CognitoError.invalidParameter("Username should be an email.")
        }
        guard username.contains("@") else { throw CognitoError.invalidParameter("Username should be an email.") }
        let user = try await services.accounts.signUp(
            email: username, password: password, attributes: try CognitoAttributes.writable(attributes), clientIP: clientIP)
        return [
            "UserConfirmed": user.status == .active, "UserSub": user.id,
            "CodeDeliveryDetails": CognitoAttributes.codeDeliveryDetails(user.email),
        ]
    }

    func confirmSignUp() async throws -> [String: Any] {
        let client = try await appClient()
        let username = try input.required("Username")
        let code = try input.required("ConfirmationCode")
        try checkSecretHash(try input.string("SecretHash"), client: client, usernames: [username])
        _ = try await services.lifecycle.verifyEmail(email: try await signInAddress(username), code: code, clientIP: clientIP)
        return [:]
    }

    func resendConfirmationCode() async throws -> [String: Any] {
        let client = try await appClient()
        let username = try input.required("Username")
        try checkSecretHash(try input.string("SecretHash"), client: client, usernames: [username])
        let address = try await signInAddress(username)
        try await services.lifecycle.requestVerification(email: address, clientIP: clientIP)
        return ["CodeDeliveryDetails": CognitoAttributes.codeDeliveryDetails(address)]
    }

    // MARK: Sign-in

    func initiateAuth() async throws -> [String: Any] {
        let client = try await appClient()
        let flow = try input.required("AuthFlow")
        let parameters = try input.stringMap("AuthParameters")
        switch flow {
        case "USER_PASSWORD_AUTH":
            try requireFlow(.userPassword, client: client)
            return try await passwordSignIn(client: client, parameters: parameters)
        case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
            return try await refreshSignIn(client: client, parameters: parameters)
        case "USER_SRP_AUTH":
            return try await startSRP(client: client, parameters: parameters)
        case "CUSTOM_AUTH", "USER_AUTH", "ADMIN_NO_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH":
            throw CognitoError.invalidParameter("\(flow) flow not enabled for this client")
        default:
            throw CognitoError.invalidParameter("1 validation error detected: Value '\(flow)' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set")
        }
    }

    /// `USER_PASSWORD_AUTH`: the password checked as every sign-in is (limits, constant cost,
    /// status), then a new refresh family with Cognito-shaped tokens.
    func passwordSignIn(client: Client, parameters: [String: String]) async throws -> [String: Any] {
        guard let username = parameters["USERNAME"], !username.isEmpty else { throw CognitoError.invalidParameter("Missing required parameter USERNAME") }
        guard let password = parameters["PASSWORD"] else { throw CognitoError.invalidParameter("Missing required parameter PASSWORD") }
        try checkSecretHash(parameters["SECRET_HASH"], client: client, usernames: [username])
        let user: User
        do {
            user = try await services.accounts.verifyPassword(email: try await signInAddress(username), password: password, clientIP: clientIP)
        } catch AccountError.passwordChangeRequired(let userID) {
            return try await newPasswordChallenge(userID: userID, client: client)
        }
        return try await signedIn(user, client: client)
    }

    /// A new refresh family and its Cognito-shaped tokens, as `AuthenticationResult`.
    func signedIn(_ user: User, client: Client) async throws -> [String: Any] {
        let now = Date()
        let tokens = try await services.accounts.startFamily(
            user: user, clientID: client.id, scope: CognitoTokens.grantedScope, authTime: now, lifetime: client.accessTokenTTL, now: now,
            mint: api.tokens.mint)
        services.accounts.metrics.tokensIssued(.password)
        return ["AuthenticationResult": CognitoTokens.result(tokens), "ChallengeParameters": [String: String]()]
    }

    /// `REFRESH_TOKEN_AUTH` (of `InitiateAuth` and `AdminInitiateAuth`): the client's rotation
    /// mode decides whether a new refresh token comes back; a reused one is revoked.
    func refreshSignIn(client: Client, parameters: [String: String]) async throws -> [String: Any] {
        try requireFlow(.refreshToken, client: client)
        guard let token = parameters["REFRESH_TOKEN"], !token.isEmpty else { throw CognitoError.invalidParameter("Missing required parameter REFRESH_TOKEN") }
        try await checkRefreshSecretHash(parameters["SECRET_HASH"], token: token, client: client)
        do {
            return ["AuthenticationResult": CognitoTokens.result(try await refresh(token, client: client)), "ChallengeParameters": [String: String]()]
        } catch AccountError.invalidGrant(let reason) where reason.contains("reuse") {
            throw CognitoError.revokedRefreshToken
        }
    }

    /// `NEW_PASSWORD_REQUIRED`: the temporary password was right; the answer continues in
    /// `RespondToAuthChallenge` with the sealed session.
    func newPasswordChallenge(userID: String, client: Client) async throws -> [String: Any] {
        guard let user = try await services.store.user(id: userID) else { throw CognitoError.incorrectCredentials }
        let session = ChallengeSession(
            challenge: "NEW_PASSWORD_REQUIRED", userID: userID, clientID: client.id, expires: Date().epochSeconds + ChallengeSession.lifetime)
        var attributes: [String: String] = ["email": user.email, "email_verified": user.emailVerified ? "true" : "false"]
        for (name, value) in user.attributes { attributes[name] = value }
        let attributesJSON = String(decoding: try JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys]), as: UTF8.self)
        return [
            "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": try session.sealed(with: services.sealer),
            "ChallengeParameters": ["USER_ID_FOR_SRP": user.id, "requiredAttributes": "[]", "userAttributes": attributesJSON],
        ]
    }

    /// `RespondToAuthChallenge` (and `AdminRespondToAuthChallenge`): `NEW_PASSWORD_REQUIRED`
    /// and, for the SRP flow, `PASSWORD_VERIFIER`.
    func respondToAuthChallenge() async throws -> [String: Any] {
        let client = try await appClient()
        let challenge = try input.required("ChallengeName")
        let responses = try input.stringMap("ChallengeResponses")
        switch challenge {
        case "NEW_PASSWORD_REQUIRED":
            let session = try ChallengeSession.open(
                try input.string("Session"), challenge: challenge, clientID: client.id, sealer: services.sealer, now: Date())
            guard let newPassword = responses["NEW_PASSWORD"] else { throw CognitoError.invalidParameter("Missing required parameter NEW_PASSWORD") }
            let names = [session.userID] + (try await services.store.user(id: session.userID).map { [$0.email] } ?? [])
            try checkSecretHash(responses["SECRET_HASH"], client: client, usernames: names)
            if let username = responses["USERNAME"], !names.contains(where: { $0.lowercased() == username.lowercased() }) {
                throw CognitoError.notAuthorized("Invalid session for the user.")
            }
            let user = try await services.accounts.replaceTemporaryPassword(userID: session.userID, new: newPassword)
            let attributes = responses.filter { $0.key.hasPrefix("userAttributes.") }
                .map { (name: String($0.key.dropFirst("userAttributes.".count)), value: $0.value) }
            let changes = try CognitoAttributes.writable(attributes.filter { $0.name != "email_verified" })
            let updated = changes.isEmpty ? user
                : try await services.accounts.updateAttributes(of: user.id, ifMatch: "*", changes: changes.mapValues { Optional($0) })
            return try await signedIn(updated, client: client)
        case "PASSWORD_VERIFIER":
            return try await passwordVerifier(client: client, responses: responses)
        default:
            throw CognitoError.invalidParameter("\(challenge) is not a challenge Tessera issues.")
        }
    }

    /// Uses a refresh token as the client's rotation mode says (contract §11.4): rotated, and
    /// within the client's retry grace the same old token answers with the same successor
    /// (and new access and ID tokens); or, with rotation disabled, kept.
    func refresh(_ token: String, client: Client) async throws -> IssuedTokens {
        guard client.cognito.refreshRotation else {
            return try await services.accounts.refreshWithoutRotation(token, client: client, mint: api.tokens.mint)
        }
        let grace = client.cognito.retryGraceSeconds
        guard grace > 0, let presented = RefreshToken(presented: token) else {
            return try await services.accounts.refresh(token, client: client, scope: nil, mint: api.tokens.mint)
        }
        let hash = presented.hash(using: services.crypto)
        let context = "refresh-retry:" + Base64URL.encode(hash.bytes)
        if let sealed = try await services.store.rememberedSuccessor(of: hash, now: Date()),
           let successor = try? String(decoding: services.sealer.open(sealed, context: context), as: UTF8.self) {
            // A retry within the grace, while the successor is still current; once the successor
            // was used, the old token is reused like any other (the family is revoked below).
            do {
                var tokens = try await services.accounts.refreshWithoutRotation(successor, client: client, mint: api.tokens.mint)
                tokens.refreshToken = RefreshToken(presented: successor)
                return tokens
            } catch AccountError.invalidGrant {}
        }
        let tokens = try await services.accounts.refresh(token, client: client, scope: nil, mint: api.tokens.mint)
        if let successor = tokens.refreshToken {
            let sealed = try services.sealer.seal(Array(successor.value.utf8), context: context)
            try await services.store.rememberSuccessor(of: hash, sealedSuccessor: sealed, expiresAt: Date().addingTimeInterval(TimeInterval(grace)))
        }
        return tokens
    }

    /// A refresh's `SECRET_HASH` is computed over the user's name: the token's user, by id or email.
    func checkRefreshSecretHash(_ presented: String?, token: String, client: Client) async throws {
        guard !client.isPublic else { return }
        var names: [String] = []
        if let parsed = RefreshToken(presented: token), let standing = try await services.store.inspect(parsed.hash(using: services.crypto)) {
            names = [standing.family.userID] + (standing.user.map { [$0.email] } ?? [])
        }
        try checkSecretHash(presented, client: client, usernames: names)
    }

    func getTokensFromRefreshToken() async throws -> [String: Any] {
        let client = try await appClient()
        try checkClientSecret(try input.string("ClientSecret"), client: client)
        let token = try input.required("RefreshToken")
        do {
            return ["AuthenticationResult": CognitoTokens.result(try await refresh(token, client: client))]
        } catch AccountError.invalidGrant(let reason) where reason.contains("reuse") {
            throw CognitoError("RefreshTokenReuseException", "Refresh token has been reused.")
        }
    }

    // MARK: Sign-out

    func revokeToken() async throws -> [String: Any] {
        let client = try await appClient()
        try checkClientSecret(try input.string("ClientSecret"), client: client)
        let token = try input.required("Token")
        if let parsed = RefreshToken(presented: token), let family = try await services.store.family(containing: parsed.hash(using: services.crypto)) {
            guard family.clientID == client.id else { throw CognitoError("UnauthorizedException", "The token was not issued to this client.") }
            try await services.accounts.logout(token)
        }
        return [:]
    }

    func globalSignOut() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        try await services.store.revokeAllTokens(userID: user.id, now: Date())
        return [:]
    }

    // MARK: The signed-in user

    func getUser() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        return ["Username": user.id, "UserAttributes": CognitoAttributes.list(user)]
    }

    func updateUserAttributes() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        let attributes = try input.attributes("UserAttributes")
        if let email = attributes.first(where: { $0.name == "email" }), email.value.lowercased() != user.email.lowercased() {
            throw CognitoError.invalidParameter("Changing email through the Cognito API is not supported: add and verify the address at /v1/me/emails")
        }
        let changes = try CognitoAttributes.writable(attributes)
        _ = try await services.accounts.updateAttributes(of: user.id, ifMatch: "*", changes: changes.mapValues { Optional($0) })
        return ["CodeDeliveryDetailsList": [[String: String]]()]
    }

    func deleteUserAttributes() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        guard let names = try input.stringList("UserAttributeNames") else {
            throw CognitoError.invalidParameter("1 validation error detected: Value at 'userAttributeNames' failed to satisfy constraint: Member must not be null")
        }
        for name in names where !CognitoAttributes.isWritable(name) {
            throw CognitoError.invalidParameter(name == "email" || name == "sub" || name == "email_verified"
                ? "Cannot delete the required attribute \(name)" : "Attribute does not exist in the schema: \(name)")
        }
        var changes: [String: String?] = [:]
        for name in names { changes[name] = .some(nil) }
        _ = try await services.accounts.updateAttributes(of: user.id, ifMatch: "*", changes: changes)
        return [:]
    }

    func getUserAttributeVerificationCode() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        guard try input.required("AttributeName") == "email" else { throw CognitoError.invalidParameter("Only email can be verified.") }
        try await services.lifecycle.requestVerification(email: user.email, clientIP: clientIP)
        return ["CodeDeliveryDetails": CognitoAttributes.codeDeliveryDetails(user.email)]
    }

    func verifyUserAttribute() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        guard try input.required("AttributeName") == "email" else { throw CognitoError.invalidParameter("Only email can be verified.") }
        _ = try await services.lifecycle.verifyEmail(email: user.email, code: try input.required("Code"), clientIP: clientIP)
        return [:]
    }

    func changePassword() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        let proposed = try input.required("ProposedPassword")
        let previous = try input.required("PreviousPassword")
        try await services.accounts.replacePassword(of: user, current: previous, new: proposed, clientIP: clientIP)
        return [:]
    }

    func deleteUser() async throws -> [String: Any] {
        let user = try await authenticatedUser()
        try await services.accounts.erase(user, by: "its user (Cognito API)")
        return [:]
    }

    // MARK: Recovery

    func forgotPassword() async throws -> [String: Any] {
        let client = try await appClient()
        let username = try input.required("Username")
        try checkSecretHash(try input.string("SecretHash"), client: client, usernames: [username])
        let address = try await signInAddress(username)
        try await services.lifecycle.forgotPassword(email: address, clientIP: clientIP)
        return ["CodeDeliveryDetails": CognitoAttributes.codeDeliveryDetails(address)]
    }

    func confirmForgotPassword() async throws -> [String: Any] {
        let client = try await appClient()
        let username = try input.required("Username")
        let code = try input.required("ConfirmationCode")
        let password = try input.required("Password")
        try checkSecretHash(try input.string("SecretHash"), client: client, usernames: [username])
        _ = try await services.lifecycle.resetPassword(email: try await signInAddress(username), code: code, password: password, clientIP: clientIP)
        return [:]
    }
}
