import Foundation
import Hummingbird
import TesseraCore

/// `/admin/v1/clients` (`admin:clients`), contract §12.4: the admin CLI's client commands over
/// the same ``ClientAdministration``, with its `--json` shapes. A secret is in the answer of
/// `POST /admin/v1/clients` and `…/rotate-secret` only.
struct AdminClientsController {
    let clients: ClientAdministration
    let gate: AdminGate

    func addRoutes(to router: Router<TesseraRequestContext>) {
        let group = router.group("/admin/v1/clients")
        group.get(use: list)
        group.post(use: create)
        group.get(":client", use: show)
        group.patch(":client", use: update)
        group.delete(":client", use: delete)
        group.post(":client/rotate-secret", use: rotateSecret)
    }

    struct CreateRequest: Decodable {
        let name: String
        let redirectURIs: [String]?
        let postLogoutRedirectURIs: [String]?
        let isPublic: Bool?
        let grants: [String]?
        let scope: String?
        let audience: String?
        let accessTokenTTL: Double?
        let authFlows: [String]?
        let refreshTokenRotation: String?
        let retryGraceSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case name, grants, scope, audience
            case redirectURIs = "redirect_uris", postLogoutRedirectURIs = "post_logout_redirect_uris", isPublic = "public"
            case accessTokenTTL = "access_token_ttl", authFlows = "auth_flows", refreshTokenRotation = "refresh_token_rotation"
            case retryGraceSeconds = "retry_grace_seconds"
        }
        static let keys: Set<String> = [
            "name", "redirect_uris", "post_logout_redirect_uris", "public", "grants", "scope", "audience", "access_token_ttl", "auth_flows",
            "refresh_token_rotation", "retry_grace_seconds",
        ]

        var specification: ClientSpecification {
            var specification = ClientSpecification(name: name)
            specification.redirectURIs = redirectURIs ?? []
            specification.postLogoutRedirectURIs = postLogoutRedirectURIs ?? []
            specification.isPublic = isPublic ?? false
            specification.grants = grants ?? []
            if let scope { specification.scope = scope }
            specification.audience = audience
            specification.accessTokenTTL = accessTokenTTL
            specification.authFlows = authFlows ?? []
            if let refreshTokenRotation { specification.refreshTokenRotation = refreshTokenRotation }
            if let retryGraceSeconds { specification.retryGraceSeconds = retryGraceSeconds }
            return specification
        }
    }

    /// A JSON merge patch (RFC 7396) of a client: fields absent stay; `null` removes
    /// `audience` or `access_token_ttl` and is refused for the others.
    struct UpdateRequest: Decodable {
        let changes: ClientChanges
        static let keys = CreateRequest.keys.subtracting(["public"])

        enum CodingKeys: String, CodingKey {
            case name, grants, scope, audience
            case redirectURIs = "redirect_uris", postLogoutRedirectURIs = "post_logout_redirect_uris"
            case accessTokenTTL = "access_token_ttl", authFlows = "auth_flows", refreshTokenRotation = "refresh_token_rotation"
            case retryGraceSeconds = "retry_grace_seconds"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            /// A field that may be absent but, when present, must not be null.
            func value<Value: Decodable>(_ key: CodingKeys, _ type: Value.Type) throws -> Value? {
                guard container.contains(key) else { return nil }
                guard try !container.decodeNil(forKey: key) else { throw APIError.invalidRequest("\(key.stringValue) cannot be null") }
                return try container.decode(type, forKey: key)
            }
            /// A field that null removes.
            func removable<Value: Decodable>(_ key: CodingKeys, _ type: Value.Type) throws -> Value?? {
                guard container.contains(key) else { return nil }
                return .some(try container.decodeNil(forKey: key) ? nil : try container.decode(type, forKey: key))
            }
            var changes = ClientChanges()
            changes.name = try value(.name, String.self)
            changes.redirectURIs = try value(.redirectURIs, [String].self)
            changes.postLogoutRedirectURIs = try value(.postLogoutRedirectURIs, [String].self)
            changes.grants = try value(.grants, [String].self)
            changes.scope = try value(.scope, String.self)
            changes.audience = try removable(.audience, String.self)
            changes.accessTokenTTL = try removable(.accessTokenTTL, Double.self)
            changes.authFlows = try value(.authFlows, [String].self)
            changes.refreshTokenRotation = try value(.refreshTokenRotation, String.self)
            changes.retryGraceSeconds = try value(.retryGraceSeconds, Int.self)
            self.changes = changes
        }
    }

    private func actor(_ request: Request) async throws -> String {
        try await gate.caller(request, scope: AdminScope.clients)
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await gate.list(request, scope: AdminScope.clients, action: "clients.list") { try await clients.list().map(ClientAdministration.json) }
    }

    @Sendable func create(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(CreateRequest.self, from: request, context: context, allowedKeys: CreateRequest.keys)
        let (client, secret) = try await clients.create(body.specification, actor: actor)
        var json = ClientAdministration.json(client)
        json["client_secret"] = secret?.value
        return try AdminJSON.response(json, status: .created)
    }

    @Sendable func show(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await actor(request)
        let client = try await clients.client(try context.parameters.require("client"))
        try await gate.read(caller, action: "clients.show", target: "client \(client.id)")
        return try AdminJSON.response(ClientAdministration.json(client), etag: clients.etag(client))
    }

    /// A merge of the fields given, only with `If-Match` naming the client's current ETag (the
    /// one `GET` answered with), as `PATCH /admin/v1/users/{user}`.
    @Sendable func update(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(UpdateRequest.self, from: request, context: context, allowedKeys: UpdateRequest.keys)
        let client = try await clients.update(
            try context.parameters.require("client"), ifMatch: request.headers.fieldValue(.ifMatch), changes: body.changes, actor: actor)
        return try AdminJSON.response(ClientAdministration.json(client), etag: clients.etag(client))
    }

    @Sendable func delete(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let id = try context.parameters.require("client")
        try await clients.delete(id, actor: actor)
        return try AdminJSON.response(["client_id": id, "deleted": true])
    }

    @Sendable func rotateSecret(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let id = try context.parameters.require("client")
        let secret = try await clients.rotateSecret(id, actor: actor)
        return try AdminJSON.response(["client_id": id, "client_secret": secret.value])
    }
}
