import Foundation
import Hummingbird
import TesseraCore

/// `/admin/v1/clients` (`admin:clients`), contract §12.4: the admin CLI's client commands over
/// the same ``ClientAdministration``, with its `--json` shapes. A secret is in the answer of
/// `POST /admin/v1/clients` and `…/rotate-secret` only.
struct AdminClientsController {
    let clients: ClientAdministration
    let accessTokens: AccessTokenValidator

    func addRoutes(to router: Router<TesseraRequestContext>) {
        let group = router.group("/admin/v1/clients")
        group.get(use: list)
        group.post(use: create)
        group.get(":client", use: show)
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

    private func actor(_ request: Request) async throws -> String {
        "client " + (try await AdminAuthorization.client(of: request, scope: AdminScope.clients, accessTokens: accessTokens))
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        _ = try await actor(request)
        return try AdminJSON.response(try await clients.list().map(ClientAdministration.json))
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
        _ = try await actor(request)
        return try AdminJSON.response(ClientAdministration.json(try await clients.client(try context.parameters.require("client"))))
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
