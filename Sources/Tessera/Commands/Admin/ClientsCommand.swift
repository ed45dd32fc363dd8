import ArgumentParser
import Foundation
import TesseraCore
import TesseraCrypto
import TesseraSQLite

/// `tessera admin clients …`
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients", abstract: "Register and manage OAuth clients.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Delete.self, RotateSecret.self])

    /// The client actions, shared with the admin HTTP API.
    static func administration(_ context: AdminContext) async throws -> ClientAdministration {
        ClientAdministration(
            store: context.storage, sealer: try await KeyCustody(context.settings, storage: context.storage).secretSealer(),
            crypto: OpenSSLPrimitives(), now: { [now = context.now] in now })
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

        var specification: ClientSpecification {
            var specification = ClientSpecification(name: name)
            specification.redirectURIs = redirectURIs
            specification.postLogoutRedirectURIs = postLogoutRedirectURIs
            specification.isPublic = `public`
            specification.grants = grants
            specification.scope = scope
            specification.audience = audience
            specification.accessTokenTTL = accessTokenTTL
            specification.authFlows = authFlows
            specification.refreshTokenRotation = refreshTokenRotation
            specification.retryGraceSeconds = retryGraceSeconds
            return specification
        }

        func validate() throws {
            if let problem = specification.problem() { throw ValidationError(problem) }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let (client, secret) = try await ClientsCommand.administration(context).create(specification, actor: AdminContext.actor)
            var json = ClientAdministration.json(client)
            json["client_secret"] = secret?.value
            try context.emit(json: json, text: "client_id: \(client.id)" + (secret.map { "\nclient_secret: \($0.value)\n(the secret is shown only now)" } ?? ""))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered clients.", discussion: "Example:\n  tessera admin clients list --json")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let clients = try await ClientsCommand.administration(context).list()
            try context.emit(json: clients.map(ClientAdministration.json), text: TextTable.render(
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
            let client = try await ClientsCommand.administration(context).client(clientID)
            let json = ClientAdministration.json(client)
            try context.emit(json: json, text: TextTable.render(["FIELD", "VALUE"], json.keys.sorted().map { key in
                [key, (json[key] as? [String])?.joined(separator: " ") ?? "\(json[key]!)"]
            }))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a registered client; options not given stay as they are.",
            discussion: """
                A repeatable option replaces the whole list. Tokens already issued keep what they were \
                issued with; the next ones follow the change. Clients from the config file are changed there.

                Examples:
                  tessera admin clients update web --redirect-uri https://app.example.com/cb --redirect-uri https://app.example.com/cb2
                  tessera admin clients update reports --scope "reports.read reports.write" --no-audience
                """)
        @Argument(help: "The client id.") var clientID: String
        @Option(help: "A new display name.") var name: String?
        @Option(name: .customLong("redirect-uri"), help: "A redirect URI (repeatable; replaces the list).") var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "A post-logout redirect URI (repeatable; replaces the list).")
        var postLogoutRedirectURIs: [String] = []
        @Option(name: .customLong("grant"), help: "A grant (repeatable; replaces the list).") var grants: [String] = []
        @Option(help: "Scopes the client may ask for, space-separated.") var scope: String?
        @Option(help: "The aud of its access tokens.") var audience: String?
        @Flag(name: .customLong("no-audience"), help: "Remove the audience (tokens name the issuer again).") var noAudience = false
        @Option(name: .customLong("access-token-ttl"), help: "Its access-token lifetime in seconds (300-86400).") var accessTokenTTL: Double?
        @Flag(name: .customLong("no-access-token-ttl"), help: "Remove its own lifetime (the server's access_token_ttl applies).")
        var noAccessTokenTTL = false
        @Option(name: .customLong("auth-flow"), help: "A Cognito API sign-in flow (repeatable; replaces the list).") var authFlows: [String] = []
        @Option(name: .customLong("refresh-token-rotation"), help: "enabled or disabled.") var refreshTokenRotation: String?
        @Option(name: .customLong("retry-grace-seconds"), help: "Seconds (0-60) a rotated refresh token still answers at the Cognito API.")
        var retryGraceSeconds: Int?
        @OptionGroup var options: AdminOptions

        var changes: ClientChanges {
            var changes = ClientChanges()
            changes.name = name
            changes.redirectURIs = redirectURIs.isEmpty ? nil : redirectURIs
            changes.postLogoutRedirectURIs = postLogoutRedirectURIs.isEmpty ? nil : postLogoutRedirectURIs
            changes.grants = grants.isEmpty ? nil : grants
            changes.scope = scope
            changes.audience = noAudience ? .some(nil) : audience.map { .some($0) }
            changes.accessTokenTTL = noAccessTokenTTL ? .some(nil) : accessTokenTTL.map { .some($0) }
            changes.authFlows = authFlows.isEmpty ? nil : authFlows
            changes.refreshTokenRotation = refreshTokenRotation
            changes.retryGraceSeconds = retryGraceSeconds
            return changes
        }

        func validate() throws {
            if noAudience, audience != nil { throw ValidationError("--audience and --no-audience exclude each other") }
            if noAccessTokenTTL, accessTokenTTL != nil { throw ValidationError("--access-token-ttl and --no-access-token-ttl exclude each other") }
            if changes.fieldNames.isEmpty { throw ValidationError("nothing to change: give at least one option") }
        }

        func run() async throws {
            let context = try await AdminContext(options)
            // The operator at the CLI changes what is there now: If-Match `*`.
            let client = try await ClientsCommand.administration(context).update(clientID, ifMatch: "*", changes: changes, actor: AdminContext.actor)
            try context.emit(json: ClientAdministration.json(client), text: "updated client \(client.id)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a client and revoke its tokens.", discussion: "Example:\n  tessera admin clients delete web --yes")
        @Argument(help: "The client id.") var clientID: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let clients = try await ClientsCommand.administration(context)
            _ = try await clients.managedClient(clientID)
            try context.confirm("delete client \(clientID) and revoke its tokens")
            try await clients.delete(clientID, actor: AdminContext.actor)
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
            let clients = try await ClientsCommand.administration(context)
            let client = try await clients.managedClient(clientID)
            guard !client.isPublic else { throw AdminError.usage("client \(clientID) is public: it has no secret") }
            try context.confirm("replace the secret of client \(clientID)")
            let secret = try await clients.rotateSecret(clientID, actor: AdminContext.actor)
            try context.emit(json: ["client_id": clientID, "client_secret": secret.value],
                             text: "client_id: \(clientID)\nclient_secret: \(secret.value)\n(the secret is shown only now)")
        }
    }
}
