import Foundation
import TesseraCore
import TesseraEvents

/// The built-in `migration_cognito` (contract §11.7): lazy migration from an upstream Cognito
/// pool through the admin calls Cognito's own migration guides use, signed with SigV4:
/// `AdminInitiateAuth` (`ADMIN_USER_PASSWORD_AUTH`) checks the password, `AdminGetUser` reads
/// the user (its `sub` becomes the Tessera id) and `AdminListGroupsForUser` its groups.
///
/// The upstream's "no" (`NotAuthorizedException`, `UserNotFoundException`,
/// `UserNotConfirmedException`, `PasswordResetRequiredException`) is nil: the sign-in fails
/// like any other. Anything else (no answer, a 5xx, throttling, an answer that is not
/// Cognito's) throws, which the core answers with 503 `migration_unavailable`.
public struct CognitoMigrationHook: UserMigrationHook {
    public let name = "migration_cognito"
    let settings: CognitoUpstreamSettings
    let target: WebhookTarget
    let client: WebhookHTTPClient
    let signer: SigV4Verifier
    let timeout: TimeInterval

    /// Why the upstream could not be asked (logged by type only: messages may hold addresses).
    public struct UpstreamFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// What the upstream answered with an error: its short `__type`.
    struct Refusal: Error {
        let type: String
    }

    /// The upstream's answers that mean "no such user, or not this password".
    static let negative: Set<String> = [
        "NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException", "PasswordResetRequiredException",
    ]

    /// - Parameter timeout: the bound on each upstream call (the hook as a whole is bounded by
    ///   `hook_timeout` too).
    public init(settings: CognitoUpstreamSettings, crypto: any CryptoPrimitives, timeout: TimeInterval) throws {
        if let missing = settings.missing { throw UpstreamFailure(description: "lazy migration from Cognito needs \(missing)") }
        do {
            target = try WebhookTarget(settings.resolvedEndpoint)
        } catch {
            throw UpstreamFailure(description: "migration_cognito_endpoint: \(error.description)")
        }
        self.settings = settings
        // The endpoint is the operator's own setting, not a caller's: private addresses are allowed.
        client = try WebhookHTTPClient(policy: AddressPolicy(allowPrivateNetworks: true))
        signer = SigV4Verifier(crypto: crypto)
        self.timeout = timeout
    }

    public func signIn(email: String, password: String) async throws -> MigratedUser? {
        var parameters = ["USERNAME": email, "PASSWORD": password]
        if let secret = settings.clientSecret, let clientID = settings.clientID {
            parameters["SECRET_HASH"] = Data(signer.crypto.hmacSHA256(key: Array(secret.utf8), Array((email + clientID).utf8))).base64EncodedString()
        }
        do {
            let answer = try await call("AdminInitiateAuth", [
                "UserPoolId": settings.poolID, "ClientId": settings.clientID ?? "", "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": parameters,
            ])
            // Tokens, or a further challenge (MFA, a new password): either way the password was right.
            guard answer["AuthenticationResult"] != nil || answer["ChallengeName"] != nil else {
                throw UpstreamFailure(description: "AdminInitiateAuth answered neither tokens nor a challenge")
            }
        } catch let refusal as Refusal where Self.negative.contains(refusal.type) {
            return nil
        }
        return try await user(email)
    }

    public func recover(email: String) async throws -> MigratedUser? {
        try await user(email)
    }

    /// The upstream's user and groups; nil when it has none by that name, or it is disabled.
    func user(_ email: String) async throws -> MigratedUser? {
        let answer: [String: Any]
        do {
            answer = try await call("AdminGetUser", ["UserPoolId": settings.poolID, "Username": email])
        } catch let refusal as Refusal where Self.negative.contains(refusal.type) {
            return nil
        }
        guard (answer["Enabled"] as? Bool) ?? true else { return nil }
        var attributes: [String: String] = [:]
        for item in (answer["UserAttributes"] as? [[String: Any]]) ?? [] {
            if let name = item["Name"] as? String, let value = item["Value"] as? String { attributes[name] = value }
        }
        let id = attributes.removeValue(forKey: "sub") ?? (answer["Username"] as? String).flatMap { UUID(uuidString: $0) != nil ? $0.lowercased() : nil }
        let verified = attributes.removeValue(forKey: "email_verified") == "true"
        attributes.removeValue(forKey: "email")
        return MigratedUser(id: id, emailVerified: verified, attributes: attributes, groups: try await groups(email))
    }

    /// Every group of the user, page by page.
    func groups(_ email: String) async throws -> [String] {
        var names: [String] = []
        var next: String?
        repeat {
            var input: [String: Any] = ["UserPoolId": settings.poolID, "Username": email, "Limit": 60]
            if let next { input["NextToken"] = next }
            let answer = try await call("AdminListGroupsForUser", input)
            names += ((answer["Groups"] as? [[String: Any]]) ?? []).compactMap { $0["GroupName"] as? String }
            next = answer["NextToken"] as? String
        } while next != nil && names.count < 10_000
        return names
    }

    /// One signed call: the answer's JSON object, ``Refusal`` for a 4xx in Cognito's error
    /// shape, ``UpstreamFailure`` for everything else.
    func call(_ operation: String, _ input: [String: Any]) async throws -> [String: Any] {
        let body = Array(try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys]))
        let amzDate = SigV4Verifier.amzDate(Date())
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/x-amz-json-1.1"), ("host", target.hostHeader), ("x-amz-date", amzDate),
            ("x-amz-target", "AWSCognitoIdentityProviderService.\(operation)"),
        ]
        let request = SigV4Verifier.Request(method: "POST", path: target.requestTarget, query: nil, headers: headers, body: body)
        let authorization = signer.authorization(
            for: request, accessKeyID: settings.accessKeyID ?? "", secret: Array((settings.secretAccessKey ?? "").utf8),
            region: settings.resolvedRegion, amzDate: amzDate)
        headers.removeAll { $0.name == "host" }
        headers.append(("authorization", authorization))
        let response: WebhookResponse
        do {
            response = try await client.post(target, headers: headers.map { ($0.name, $0.value) }, body: body, timeout: timeout)
        } catch {
            throw UpstreamFailure(description: "\(operation): \(error.description)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        if response.status == 200, let object { return object }
        if (400..<500).contains(response.status), let type = object?["__type"] as? String {
            throw Refusal(type: String(type.split(separator: "#").last ?? ""))
        }
        throw UpstreamFailure(description: "\(operation) answered HTTP \(response.status)")
    }
}
