import ArgumentParser
import Foundation
import TesseraCore
import TesseraCrypto
import TesseraSQLite

/// `tessera admin clients …`
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients", abstract: "Register and manage OAuth clients.",
        subcommands: [Create.self, List.self, Show.self, Delete.self, RotateSecret.self])

    static func json(_ client: Client) -> [String: Any] {
        var json: [String: Any] = [
            "client_id": client.id, "name": client.name, "public": client.isPublic, "redirect_uris": client.redirectURIs,
            "post_logout_redirect_uris": client.postLogoutRedirectURIs, "grants": client.grants.map(\.rawValue).sorted(),
            "scope": client.scope.description, "created_at": client.createdAt.iso8601, "source": client.source.rawValue,
        ]
        json["audience"] = client.audience
        json["access_token_ttl"] = client.accessTokenTTL
        json["auth_flows"] = client.cognito.authFlows.map(\.rawValue).sorted()
        json["refresh_token_rotation"] = client.cognito.refreshRotation ? "enabled" : "disabled"
        json["retry_grace_seconds"] = client.cognito.retryGraceSeconds
        return json
    }

    /// The secret sealed for the Cognito API's `SECRET_HASH` (contract §11.2).
    static func seal(_ secret: ClientSecret, clientID: String, context: AdminContext) async throws -> [UInt8] {
        try await KeyCustody(context.settings, storage: context.storage).secretSealer()
            .seal(Array(secret.value.utf8), context: CognitoAppSettings.sealingContext(clientID: clientID))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a client; prints its id and (confidential) secret once.",
            discussion: """
                Without --grant: authorization_code and refresh_token when redirect URIs are given, \
                otherwise client_credentials.

                Examples:
                  tessera admin clients create --name "Web app" --redirect-uri https://app.example.com/callback --scope "openid email offline_access"
                  tessera admin clients create --name SPA --public --redirect-uri https://spa.example.com/cb --grant authorization_code
                  tessera admin clients create --name Reports --grant client_credentials --scope "reports.read" --audience https://api.example.com --json
                """)
        @Option(help: "A display name (shown on the login page).") var name: String
        @Option(name: .customLong("redirect-uri"), help: "A redirect URI (repeatable; matched exactly).") var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "A post-logout redirect URI (repeatable).") var postLogoutRedirectURIs: [String] = []
        @Flag(help: "A public client (no secret; must use PKCE).") var `public` = false
        @Option(name: .customLong("grant"), help: "authorization_code, refresh_token, client_credentials or password (repeatable).") var grants: [String] = []
        @Option(help: "Scopes the client may ask for, space-separated.") var scope = "openid email profile offline_access"
        @Option(help: "The aud of its access tokens (default: the issuer).") var audience: String?
        @Option(name: .customLong("access-token-ttl"), help: "Its access-token lifetime in seconds (300-86400).") var accessTokenTTL: Double?
        @Option(
            name: .customLong("auth-flow"),
            help: "A Cognito API sign-in flow: USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH or ADMIN_USER_PASSWORD_AUTH (repeatable; default USER_SRP_AUTH and REFRESH_TOKEN_AUTH).")
        var authFlows: [String] = []
        @Option(name: .customLong("refresh-token-rotation"), help: "enabled (default) or disabled: whether the Cognito API rotates its refresh tokens.")
        var refreshTokenRotation = "enabled"
        @Option(name: .customLong("retry-grace-seconds"), help: "Seconds (0-60) a rotated refresh token still answers at the Cognito API.")
        var retryGraceSeconds = 0
        @OptionGroup var options: AdminOptions

        func validate() throws {
            for uri in redirectURIs + postLogoutRedirectURIs where !ClientDeclaration.isValidRedirectURI(uri) {
                throw ValidationError("\(uri) is not an absolute https URL without fragment (http only on loopback)")
            }
            for grant in grants where GrantType(rawValue: grant) == nil { throw ValidationError("unknown grant \(grant)") }
            guard Scope(parsing: scope) != nil else { throw ValidationError("malformed --scope") }
            if let accessTokenTTL, !Client.accessTokenTTLRange.contains(accessTokenTTL) {
                throw ValidationError("--access-token-ttl must be between 300 and 86400")
            }
            for flow in authFlows where CognitoAuthFlow(rawValue: flow) == nil {
                throw ValidationError("unknown --auth-flow \(flow): USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH or ADMIN_USER_PASSWORD_AUTH")
            }
            guard ["enabled", "disabled"].contains(refreshTokenRotation) else { throw ValidationError("--refresh-token-rotation must be enabled or disabled") }
            guard CognitoAppSettings.retryGraceRange.contains(retryGraceSeconds) else { throw ValidationError("--retry-grace-seconds must be between 0 and 60") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            var grantSet = Set(grants.compactMap(GrantType.init(rawValue:)))
            if grantSet.isEmpty { grantSet = redirectURIs.isEmpty ? [.clientCredentials] : [.authorizationCode, .refreshToken] }
            if grantSet.contains(.authorizationCode), redirectURIs.isEmpty { throw AdminError.usage("authorization_code needs --redirect-uri") }
            if grantSet.contains(.clientCredentials), `public` { throw AdminError.usage("a public client cannot use client_credentials") }
            let crypto = OpenSSLPrimitives()
            let secret = `public` ? nil : ClientSecret.generate(using: crypto)
            let id = RandomIdentifier.make(using: crypto)
            var sealed: [UInt8]?
            if let secret { sealed = try await ClientsCommand.seal(secret, clientID: id, context: context) }
            let client = Client(
                id: id, name: name, secretHash: secret?.hash(using: crypto), redirectURIs: redirectURIs,
                postLogoutRedirectURIs: postLogoutRedirectURIs, grants: grantSet, scope: Scope(parsing: scope)!, audience: audience,
                accessTokenTTL: accessTokenTTL, createdAt: context.now,
                cognito: CognitoAppSettings(
                    authFlows: authFlows.isEmpty ? CognitoAppSettings.defaultAuthFlows : Set(authFlows.compactMap(CognitoAuthFlow.init(rawValue:))),
                    refreshRotation: refreshTokenRotation == "enabled", retryGraceSeconds: retryGraceSeconds, sealedSecret: sealed))
            try await context.storage.createClient(client, now: context.now)
            try await context.audit("clients.create", target: "client \(client.id)")
            var json = ClientsCommand.json(client)
            json["client_secret"] = secret?.value
            try context.emit(json: json, text: "client_id: \(client.id)" + (secret.map { "\nclient_secret: \($0.value)\n(the secret is shown only now)" } ?? ""))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered clients.", discussion: "Example:\n  tessera admin clients list --json")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let clients = try await context.storage.listClients()
            try context.emit(json: clients.map(ClientsCommand.json), text: TextTable.render(
                ["CLIENT_ID", "NAME", "TYPE", "GRANTS"],
                clients.map { [$0.id, $0.name, $0.isPublic ? "public" : "confidential", $0.grants.map(\.rawValue).sorted().joined(separator: ",")] }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one client (never its secret).", discussion: "Example:\n  tessera admin clients show web")
        @Argument(help: "The client id.") var clientID: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let client = try await context.client(clientID)
            let json = ClientsCommand.json(client)
            try context.emit(json: json, text: TextTable.render(["FIELD", "VALUE"], json.keys.sorted().map { key in
                [key, (json[key] as? [String])?.joined(separator: " ") ?? "\(json[key]!)"]
            }))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a client and revoke its tokens.", discussion: "Example:\n  tessera admin clients delete web --yes")
        @Argument(help: "The client id.") var clientID: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            _ = try await context.adminManagedClient(clientID)
            try context.confirm("delete client \(clientID) and revoke its tokens")
            try await context.storage.deleteClient(id: clientID, now: context.now)
            try await context.audit("clients.delete", target: "client \(clientID)")
            try context.emit(json: ["client_id": clientID, "deleted": true], text: "deleted client \(clientID)")
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret", abstract: "Give a confidential client a new secret (printed once); the old one stops working.",
            discussion: "Example:\n  tessera admin clients rotate-secret web --yes --json")
        @Argument(help: "The client id.") var clientID: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let client = try await context.adminManagedClient(clientID)
            guard !client.isPublic else { throw AdminError.usage("client \(clientID) is public: it has no secret") }
            try context.confirm("replace the secret of client \(clientID)")
            let crypto = OpenSSLPrimitives()
            let secret = ClientSecret.generate(using: crypto)
            try await context.storage.replaceClientSecret(
                id: clientID, hash: secret.hash(using: crypto), sealed: try await ClientsCommand.seal(secret, clientID: clientID, context: context),
                now: context.now)
            try await context.audit("clients.rotate-secret", target: "client \(clientID)")
            try context.emit(json: ["client_id": clientID, "client_secret": secret.value],
                             text: "client_id: \(clientID)\nclient_secret: \(secret.value)\n(the secret is shown only now)")
        }
    }
}
