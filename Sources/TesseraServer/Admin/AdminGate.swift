import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// Who may call the admin HTTP API, and what the audit log keeps of each call (contract §12.4).
///
/// A caller is a client with a `client_credentials` access token whose scope holds the
/// resource's admin scope: 401 `invalid_token` without a valid token, 403
/// `insufficient_scope` for a user's token or a scope without it. The audit log names it
/// `client <id>`. A change is written there by the core service that makes it, with its
/// details; a read by ``read(_:action:target:details:)`` here, once it has succeeded; a
/// refusal by ``AdminRefusalAudit``.
struct AdminGate: Sendable {
    let accessTokens: AccessTokenValidator
    let auditLog: any AuditLog
    let now: Now

    /// The caller, as the audit log names it.
    func caller(_ request: Request, scope: String) async throws -> String {
        let validated = try await bearerToken(request)
        guard validated.user == nil, Scope(parsing: validated.claims.scope)?.contains(scope) == true else {
            throw BearerError.insufficientScope(required: scope)
        }
        return "client " + validated.claims.clientID
    }

    /// The registered client a valid `client_credentials` access token in `request` belongs
    /// to, as the audit log names it, whatever its scope; nil for anything else (no token, an
    /// invalid one, a user's).
    func client(_ request: Request) async -> String? {
        guard let validated = try? await bearerToken(request), validated.user == nil else { return nil }
        return "client " + validated.claims.clientID
    }

    /// The request's bearer access token, validated: 401 without one or with an invalid one.
    private func bearerToken(_ request: Request) async throws -> ValidatedAccessToken {
        guard let header = request.headers.fieldValue(.authorization) else { throw BearerError.missing }
        guard let token = AuthorizationHeader.credentials(header, scheme: "bearer") else { throw BearerError.invalidToken(reason: "not a bearer authorization") }
        return try await accessTokens.validate(token, audience: nil)
    }

    /// Records a read the caller made (`users.show` of `user <id>`).
    func read(_ caller: String, action: String, target: String? = nil, details: String? = nil) async throws {
        try await auditLog.recordAdminAction(actor: caller, action: action, target: target, details: details, now: now())
    }

    /// A list call: checks the caller first, then runs `list` (which reads its query), records
    /// the call once `list` succeeded, and answers with what it gave.
    func list(
        _ request: Request, scope: String, action: String, _ list: () async throws -> Any
    ) async throws -> Response {
        let caller = try await caller(request, scope: scope)
        let answer = try await list()
        try await read(caller, action: action)
        return try AdminJSON.response(answer)
    }
}

/// An admin call's path parameters: a user's address or a group's name arrives percent-encoded.
enum AdminPath {
    static func parameter(_ name: String, of context: TesseraRequestContext) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}

/// An admin call's query parameters, each read once and checked.
struct AdminQuery {
    private let parameters: [String: String]

    init(_ request: Request) throws {
        guard let parsed = try? FormBody.parse(request.uri.query ?? "") else { throw APIError.invalidRequest("a query parameter is repeated or malformed") }
        parameters = parsed
    }

    subscript(name: String) -> String? { parameters[name] }

    /// The parameter `name` read by `parse`, `fallback` when absent; 400 with `refusal` when it does not parse.
    func value<Value>(_ name: String, default fallback: Value, _ refusal: String, _ parse: (String) -> Value?) throws -> Value {
        guard let text = parameters[name] else { return fallback }
        guard let value = parse(text) else { throw APIError.invalidRequest(refusal) }
        return value
    }
}

/// The admin API's answers: JSON as the CLI's `--json` prints it (keys sorted), never cached.
enum AdminJSON {
    static func response(_ value: Any, status: HTTPResponse.Status = .ok, etag: String? = nil) throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        return JSONResponse.make(status: status, body: body, cacheControl: "no-store", etag: etag)
    }
}
