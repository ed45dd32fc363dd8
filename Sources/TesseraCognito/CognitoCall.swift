import Foundation
import TesseraCore

/// One operation call: its input, the caller's IP, and the services it translates to.
struct CognitoCall: Sendable {
    let api: CognitoAPI
    let input: CognitoInput
    let clientIP: String
    /// The SigV4 key an admin operation was signed with.
    let accessKeyID: String?

    var services: CognitoAPI.Services { api.services }

    /// Runs the operation named by `X-Amz-Target`.
    func perform(_ operation: String) async throws -> [String: Any] {
        if let output = try await performAdmin(operation) { return output }
        return switch operation {
        case "SignUp": try await signUp()
        case "ConfirmSignUp": try await confirmSignUp()
        case "ResendConfirmationCode": try await resendConfirmationCode()
        case "InitiateAuth": try await initiateAuth()
        case "GetTokensFromRefreshToken": try await getTokensFromRefreshToken()
        case "RevokeToken": try await revokeToken()
        case "GlobalSignOut": try await globalSignOut()
        case "GetUser": try await getUser()
        case "UpdateUserAttributes": try await updateUserAttributes()
        case "DeleteUserAttributes": try await deleteUserAttributes()
        case "GetUserAttributeVerificationCode": try await getUserAttributeVerificationCode()
        case "VerifyUserAttribute": try await verifyUserAttribute()
        case "ChangePassword": try await changePassword()
        case "ForgotPassword": try await forgotPassword()
        case "ConfirmForgotPassword": try await confirmForgotPassword()
        case "DeleteUser": try await deleteUser()
        case "RespondToAuthChallenge": try await respondToAuthChallenge()
        case _ where ModelOperations.names.contains(operation):
            throw CognitoError("UnsupportedOperationException", "\(operation) is not supported by Tessera's Cognito API.")
        default:
            throw CognitoError("UnknownOperationException", "Unknown operation \(operation).")
        }
    }

    // MARK: The app client and its secret

    /// The app client named by `ClientId`.
    func appClient() async throws -> Client {
        let id = try input.required("ClientId")
        guard let client = try await services.accounts.clients.client(id: id), client.id != FirstPartyClient.id else {
            throw CognitoError.clientNotFound(id)
        }
        return client
    }

    /// Checks `SECRET_HASH` (base64 of HMAC-SHA256 under the client secret of one of
    /// `usernames` + the client id) for a confidential client; a public client needs none.
    func checkSecretHash(_ presented: String?, client: Client, usernames: [String]) throws {
        guard !client.isPublic else { return }
        guard let presented else {
            throw CognitoError.notAuthorized("Client \(client.id) is configured with secret but SECRET_HASH was not received")
        }
        guard let sealed = client.cognito.sealedSecret,
              let secret = try? services.sealer.open(sealed, context: CognitoAppSettings.sealingContext(clientID: client.id))
        else {
            throw CognitoError.notAuthorized("Unable to verify secret hash for client \(client.id)")
        }
        let presentedBytes = Array(presented.utf8)
        var matched = false
        for username in usernames {
            let expected = Data(services.crypto.hmacSHA256(key: secret, Array((username + client.id).utf8))).base64EncodedString()
            if constantTimeEquals(Array(expected.utf8), presentedBytes) { matched = true }
        }
        guard matched else { throw CognitoError.notAuthorized("Unable to verify secret hash for client \(client.id)") }
    }

    /// Checks a `ClientSecret` sent as such (`RevokeToken`, `GetTokensFromRefreshToken`).
    func checkClientSecret(_ presented: String?, client: Client) throws {
        guard let expected = client.secretHash else { return }
        guard let presented, constantTimeEquals(ClientSecret(presented: presented).hash(using: services.crypto).bytes, expected.bytes) else {
            throw CognitoError.notAuthorized("Unable to verify secret hash for client \(client.id)")
        }
    }

    func requireFlow(_ flow: CognitoAuthFlow, client: Client) throws {
        guard client.cognito.authFlows.contains(flow) else {
            throw CognitoError.invalidParameter("\(flow.rawValue) flow not enabled for this client")
        }
    }

    // MARK: Users by name

    /// The address a `Username` (an email, or a user id) signs in with: an id that names no
    /// user becomes an address that names no account, so it costs what a wrong address does.
    func signInAddress(_ username: String) async throws -> String {
        if username.contains("@") { return username }
        return try await services.store.user(id: username)?.email ?? "\(username)@unknown.invalid"
    }

    /// The user a `Username` names, if any.
    func user(named username: String) async throws -> User? {
        username.contains("@") ? try await services.store.user(email: username.lowercased()) : try await services.store.user(id: username)
    }

    // MARK: Access tokens

    /// The user behind `AccessToken`, which must hold the account scope.
    func authenticatedUser() async throws -> User {
        let token = try input.required("AccessToken")
        let validated = try await services.accounts.accessTokens.validate(token, audience: nil)
        guard let user = validated.user else { throw CognitoError.invalidAccessToken }
        guard Scope.text(validated.claims.scope, contains: Scope.account) else {
            throw CognitoError.notAuthorized("Access Token does not have required scopes")
        }
        return user
    }
}
