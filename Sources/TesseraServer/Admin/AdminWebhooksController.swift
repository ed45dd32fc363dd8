import Foundation
import Hummingbird
import TesseraCore

/// `/admin/v1/webhooks` (`admin:webhooks`), contract §12.4 and §9.4: the admin CLI's webhook
/// commands over the same ``WebhookAdministration``, with its `--json` shapes. A signing
/// secret is in the answer of the create and of `…/rotate-secret` only.
struct AdminWebhooksController {
    let webhooks: any WebhookAdministration
    let gate: AdminGate

    func addRoutes(to router: Router<TesseraRequestContext>) {
        let group = router.group("/admin/v1/webhooks")
        group.get(use: list)
        group.post(use: create)
        group.post("retry", use: retry)
        group.get(":webhook", use: show)
        group.delete(":webhook", use: delete)
        group.post(":webhook/enable") { request, context in try await setEnabled(true, request, context) }
        group.post(":webhook/disable") { request, context in try await setEnabled(false, request, context) }
        group.post(":webhook/rotate-secret", use: rotateSecret)
        group.get(":webhook/deliveries", use: deliveries)
        group.post(":webhook/replay", use: replay)
        group.post(":webhook/test", use: test)
    }

    struct CreateRequest: Decodable {
        let url: String
        let events: [String]?
        let description: String?
        static let keys: Set<String> = ["url", "events", "description"]
    }

    struct RotateRequest: Decodable {
        let overlap: Int?
        static let keys: Set<String> = ["overlap"]
    }

    /// One dead letter (`delivery`), or every one (`all`, of `endpoint` only when given).
    struct RetryRequest: Decodable {
        let delivery: Int64?
        let all: Bool?
        let endpoint: String?
        static let keys: Set<String> = ["delivery", "all", "endpoint"]

        var selection: DeliveryRetrySelection {
            get throws {
                switch (delivery, all ?? false) {
                case (let id?, false) where endpoint == nil: return .delivery(id)
                case (nil, true): return .all(endpointID: endpoint)
                default: throw APIError.invalidRequest("name one delivery, or \"all\": true (with an optional endpoint)")
                }
            }
        }
    }

    struct ReplayRequest: Decodable {
        let after: Int64
        let user: String?
        static let keys: Set<String> = ["after", "user"]
    }

    private func actor(_ request: Request) async throws -> String {
        try await gate.caller(request, scope: AdminScope.webhooks)
    }

    private func id(_ context: TesseraRequestContext) throws -> String {
        try AdminPath.parameter("webhook", of: context)
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await gate.list(request, scope: AdminScope.webhooks, action: "webhooks.list") { try await webhooks.list().map(WebhookAdministrationJSON.endpoint) }
    }

    @Sendable func create(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(CreateRequest.self, from: request, context: context, allowedKeys: CreateRequest.keys)
        let registration = try await webhooks.create(url: body.url, eventTypes: body.events ?? [], description: body.description, actor: actor)
        return try AdminJSON.response(WebhookAdministrationJSON.registration(registration), status: .created)
    }

    @Sendable func show(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await actor(request)
        let endpoint = try await webhooks.endpoint(try id(context))
        try await gate.read(caller, action: "webhooks.show", target: "webhook \(endpoint.id)")
        return try AdminJSON.response(WebhookAdministrationJSON.endpoint(endpoint))
    }

    @Sendable func delete(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let id = try id(context)
        try await webhooks.delete(endpointID: id, actor: actor)
        return try AdminJSON.response(["id": id, "deleted": true])
    }

    func setEnabled(_ enabled: Bool, _ request: Request, _ context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let id = try id(context)
        try await webhooks.setEnabled(enabled, endpointID: id, actor: actor)
        return try AdminJSON.response(["id": id, "enabled": enabled])
    }

    /// A new secret; the old one also signs for `overlap` seconds (a day unless the body says).
    @Sendable func rotateSecret(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decodeIfPresent(RotateRequest.self, from: request, context: context, allowedKeys: RotateRequest.keys)
        let id = try id(context)
        let overlap = body?.overlap ?? WebhookAdministrationJSON.defaultOverlap
        let secret = try await webhooks.rotateSecret(endpointID: id, overlap: overlap, actor: actor)
        return try AdminJSON.response(["id": id, "secret": secret, "overlap": overlap])
    }

    @Sendable func deliveries(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await actor(request)
        let query = try AdminQuery(request)
        let limit = try query.value("limit", default: 100, "limit must be between 1 and 1000", Int.init)
        let status = try query.value("status", default: nil, "status must be pending, delivered or failed", DeliveryStatus.init(rawValue:))
        let id = try id(context)
        let deliveries = try await webhooks.deliveries(endpointID: id, status: status, userID: query["user"], limit: limit)
        try await gate.read(caller, action: "webhooks.deliveries", target: "webhook \(id)")
        return try AdminJSON.response(deliveries.map(WebhookAdministrationJSON.delivery))
    }

    @Sendable func retry(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(RetryRequest.self, from: request, context: context, allowedKeys: RetryRequest.keys)
        return try AdminJSON.response(["retried": try await webhooks.retry(try body.selection, actor: actor)])
    }

    @Sendable func replay(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(ReplayRequest.self, from: request, context: context, allowedKeys: ReplayRequest.keys)
        let id = try id(context)
        let queued = try await webhooks.replay(endpointID: id, after: body.after, userID: body.user, actor: actor)
        return try AdminJSON.response(["id": id, "queued": queued])
    }

    /// Sends a `webhook.test` event now. The call succeeds whatever the receiver answered; the
    /// answer says whether it was delivered and, if not, why.
    @Sendable func test(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let (deliveryID, result) = try await webhooks.test(endpointID: try id(context), actor: actor)
        var json: [String: Any] = ["delivery_id": deliveryID, "delivered": false]
        switch result {
        case .delivered(let status):
            json["delivered"] = true
            json["status"] = status
        case nil:
            json["queued"] = true
        case .retry(_, let status, let error), .dead(let status, let error):
            json["status"] = status
            json["error"] = error
        case .gone:
            json["status"] = 410
            json["error"] = "the endpoint answered 410 Gone and is now disabled"
        }
        return try AdminJSON.response(json)
    }
}
