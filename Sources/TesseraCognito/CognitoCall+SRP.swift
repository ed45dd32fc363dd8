import Foundation
import TesseraCore
import TesseraCrypto

/// USER_SRP_AUTH (contract §11.6): the `PASSWORD_VERIFIER` challenge, computed as Amplify JS
/// and pycognito compute it. The server's state (its secret `b`, `A`, `B`) travels sealed in
/// `SECRET_BLOCK`, which is spent once; `Session` carries the same for Amplify.
extension CognitoCall {
    /// What a `SECRET_BLOCK` holds, sealed.
    struct SecretBlock {
        var userID: String
        var clientID: String
        var b: [UInt8]
        var clientPublic: [UInt8]
        var serverPublic: [UInt8]
        var expires: Int
        /// Random: two blocks never seal alike.
        var nonce: [UInt8]

        var packed: [UInt8] {
            Packed.pack([Array(userID.utf8), Array(clientID.utf8), b, clientPublic, serverPublic, Array(String(expires).utf8), nonce])
        }

        init(userID: String, clientID: String, b: [UInt8], clientPublic: [UInt8], serverPublic: [UInt8], expires: Int, nonce: [UInt8]) {
            self.userID = userID
            self.clientID = clientID
            self.b = b
            self.clientPublic = clientPublic
            self.serverPublic = serverPublic
            self.expires = expires
            self.nonce = nonce
        }

        init?(packed: [UInt8]) {
            guard let fields = Packed.unpack(packed, count: 7), let expires = Int(String(decoding: fields[5], as: UTF8.self)) else { return nil }
            self.init(
                userID: String(decoding: fields[0], as: UTF8.self), clientID: String(decoding: fields[1], as: UTF8.self), b: fields[2],
                clientPublic: fields[3], serverPublic: fields[4], expires: expires, nonce: fields[6])
        }
    }

    static let secretBlockContext = "cognito-srp-secret-block"
    /// How long a challenge may be answered.
    static let secretBlockLifetime = 300
    static let timestampSkew: TimeInterval = 300

    /// `InitiateAuth` with `USER_SRP_AUTH`: salt, B and a sealed secret block for the user.
    func startSRP(client: Client, parameters: [String: String]) async throws -> [String: Any] {
        guard let verifiers = api.verifiers else { throw CognitoError.invalidParameter("USER_SRP_AUTH flow not enabled for this client") }
        try requireFlow(.userSRP, client: client)
        guard let username = parameters["USERNAME"], !username.isEmpty else { throw CognitoError.invalidParameter("Missing required parameter USERNAME") }
        guard let hexA = parameters["SRP_A"], let clientPublic = CognitoSRP.parseHex(hexA) else {
            throw CognitoError.invalidParameter("Missing required parameter SRP_A")
        }
        try checkSecretHash(parameters["SECRET_HASH"], client: client, usernames: [username])
        guard CognitoSRP.isValidClientPublic(clientPublic) else { throw CognitoError.notAuthorized("SRP_A is not a valid public value.") }
        // SRP's first step costs three 3072-bit exponentiations: it takes a sign-in attempt from
        // the caller's IP, and a locked account is refused before any is made.
        try await services.accounts.admitSignInAttempt(clientIP: clientIP)
        let user = try await user(named: username)
        if let user { try await services.accounts.checkNotLockedOut(user) }
        let record: SRPVerifiers.Record
        if let user, let kept = try await verifiers.record(userID: user.id) {
            record = kept
        } else if user != nil {
            guard client.cognito.authFlows.contains(.userPassword) else {
                throw CognitoError("PasswordResetRequiredException", "Password reset required for the user")
            }
            throw CognitoError.notAuthorized("USER_SRP_AUTH is not available for this user until they sign in once with USER_PASSWORD_AUTH.")
        } else {
            // No such user: a challenge like any other, with a salt that stays the same for
            // the name, which no answer can pass.
            let salt = Array(services.crypto.hmacSHA256(key: api.decoyKey, Array(username.lowercased().utf8)).prefix(16))
            record = SRPVerifiers.Record(salt: [salt[0] == 0 ? 1 : salt[0]] + salt.dropFirst(), verifier: CognitoSRP.clientPublic(a: services.crypto.randomBytes(32)))
        }
        let b = services.crypto.randomBytes(32)
        let serverPublic = CognitoSRP.serverPublic(verifier: record.verifier, b: b)
        let userID = user?.id ?? ""
        let block = SecretBlock(
            userID: userID, clientID: client.id, b: b, clientPublic: clientPublic, serverPublic: serverPublic,
            expires: Date().epochSeconds + Self.secretBlockLifetime, nonce: services.crypto.randomBytes(16))
        let sealed = try services.sealer.seal(block.packed, context: Self.secretBlockContext)
        let secretBlock = Data(sealed).base64EncodedString()
        let shownID = user?.id ?? username
        return [
            "ChallengeName": "PASSWORD_VERIFIER", "Session": secretBlock,
            "ChallengeParameters": [
                "SALT": CognitoSRP.minimalHex(record.salt), "SRP_B": CognitoSRP.minimalHex(serverPublic), "SECRET_BLOCK": secretBlock,
                "USER_ID_FOR_SRP": shownID, "USERNAME": shownID,
            ],
        ]
    }

    /// `RespondToAuthChallenge` with `PASSWORD_VERIFIER`: the block opened and spent, the
    /// timestamp within 5 minutes, the claim checked in constant time; a failure counts toward
    /// the account's lock-out like a wrong password.
    func passwordVerifier(client: Client, responses: [String: String]) async throws -> [String: Any] {
        guard let verifiers = api.verifiers else { throw CognitoError.invalidParameter("USER_SRP_AUTH flow not enabled for this client") }
        guard let blockText = responses["PASSWORD_CLAIM_SECRET_BLOCK"], let signatureText = responses["PASSWORD_CLAIM_SIGNATURE"],
              let timestamp = responses["TIMESTAMP"]
        else { throw CognitoError.invalidParameter("Missing required parameter PASSWORD_CLAIM_SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE or TIMESTAMP") }
        guard let blockBytes = Data(base64Encoded: blockText).map(Array.init),
              let plain = try? services.sealer.open(blockBytes, context: Self.secretBlockContext),
              let block = SecretBlock(packed: plain), block.clientID == client.id
        else { throw CognitoError.incorrectCredentials }
        let now = Date()
        guard block.expires > now.epochSeconds else { throw CognitoError.notAuthorized("Invalid session for the user, session is expired.") }
        guard let signedAt = Self.parseTimestamp(timestamp), abs(signedAt.timeIntervalSince(now)) <= Self.timestampSkew else {
            throw CognitoError.notAuthorized("Incorrect username or password.")
        }
        let user = block.userID.isEmpty ? nil : try await services.store.user(id: block.userID)
        if let user {
            try checkSecretHash(responses["SECRET_HASH"], client: client, usernames: [user.id, user.email])
            if let username = responses["USERNAME"], username != user.id, username.lowercased() != user.email.lowercased() {
                throw CognitoError.incorrectCredentials
            }
        }
        let blockID = Hex.encode(services.crypto.sha256(blockBytes))
        guard try await services.store.spendChallenge(id: "srp:" + blockID, expiresAt: Date(timeIntervalSince1970: TimeInterval(block.expires))) else {
            throw CognitoError.incorrectCredentials
        }
        let signature = Data(base64Encoded: signatureText).map(Array.init) ?? []
        let suffix = api.poolSuffix
        let signedIn: User
        do {
            signedIn = try await services.accounts.signIn(proving: user, lockOutKey: responses["USERNAME"] ?? "unknown@unknown.invalid") {
            guard let user, let record = try await verifiers.record(userID: user.id) else { return false }
            guard let key = CognitoSRP.serverKey(
                clientPublic: block.clientPublic, serverPublic: block.serverPublic, b: block.b, verifier: record.verifier)
            else { return false }
            let expected = CognitoSRP.claimSignature(key: key, poolSuffix: suffix, userID: user.id, secretBlock: blockBytes, timestamp: timestamp)
            return constantTimeEquals(expected, signature)
            }
        } catch AccountError.passwordChangeRequired(let userID) {
            return try await newPasswordChallenge(userID: userID, client: client)
        }
        return try await self.signedIn(signedIn, client: client)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    /// Cognito's `TIMESTAMP`: `EEE MMM d HH:mm:ss UTC yyyy` in English, the day not padded.
    /// Only the instant is used (for the skew); the signature covers the text as sent.
    static func parseTimestamp(_ text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[4] == "UTC", let weekday = weekdays.firstIndex(of: String(parts[0])),
              let month = months.firstIndex(of: String(parts[1])), let day = Int(parts[2]), (1...31).contains(day),
              let year = Int(parts[5]), (1970...9999).contains(year)
        else { return nil }
        let clock = parts[3].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }), let hour = Int(clock[0]), let minute = Int(clock[1]),
              let second = Int(clock[2]), hour < 24, minute < 60, second < 60
        else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = month < 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month < 2 ? month + 10 : month - 2) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        guard (days + 4) % 7 == weekday else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(days * 86400 + hour * 3600 + minute * 60 + second))
    }
}
