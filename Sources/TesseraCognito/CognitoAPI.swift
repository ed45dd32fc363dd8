import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraCore

/// A request context the Cognito API can serve: it knows the caller's IP, for the sign-in limits.
public protocol CognitoRequestContext: RequestContext {
    var clientIP: String { get }
}

/// The Cognito-compatible API (contract §11): `POST /` with `X-Amz-Target`, the pool's discovery
/// document and JWKS under `/<pool id>/.well-known/`, CORS preflights. A translation layer: every
/// rule it applies lives in the core's services (accounts, lifecycle, groups, tokens).
public struct CognitoAPI: Sendable {
    public struct Services: Sendable {
        public let settings: Settings
        public let accounts: AccountService
        public let lifecycle: LifecycleService
        public let groups: GroupService
        /// Users, refresh tokens, access keys, SRP verifiers and the audit log.
        public let store: any Storage
        public let signer: any TokenSigner
        public let keys: any KeySetPublisher
        /// Opens the sealed client secrets (`SECRET_HASH`).
        public let sealer: any SecretSealer
        public let crypto: any CryptoPrimitives

        public init(
            settings: Settings, accounts: AccountService, lifecycle: LifecycleService, groups: GroupService, store: any Storage,
            signer: any TokenSigner, keys: any KeySetPublisher, sealer: any SecretSealer, crypto: any CryptoPrimitives
        ) {
            self.settings = settings
            self.accounts = accounts
            self.lifecycle = lifecycle
            self.groups = groups
            self.store = store
            self.signer = signer
            self.keys = keys
            self.sealer = sealer
            self.crypto = crypto
        }
    }

    let services: Services
    let poolID: String
    /// The pool id after its `_`, which SRP's `x` and claim are computed over.
    let poolSuffix: String
    let issuer: String
    let tokens: CognitoTokens
    /// The SRP verifiers, when `cognito_srp` is on.
    let verifiers: SRPVerifiers?
    /// Keys the salts of challenges for names no user has, for this process's life.
    let decoyKey: [UInt8]

    /// Nil when the settings leave the API off (no `cognito_pool_id`).
    public init?(_ services: Services, verifiers: SRPVerifiers?) {
        guard let poolID = services.settings.cognitoPoolID, let issuer = services.settings.cognitoIssuer else { return nil }
        self.services = services
        self.poolID = poolID
        poolSuffix = poolID.split(separator: "_", maxSplits: 1).last.map(String.init) ?? poolID
        self.verifiers = verifiers
        decoyKey = services.crypto.randomBytes(32)
        self.issuer = issuer
        tokens = CognitoTokens(
            issuer: issuer, settings: services.settings, signer: services.signer, groups: services.groups, crypto: services.crypto)
    }

    static let targetPrefix = "AWSCognitoIdentityProviderService."
    static let contentType = "application/x-amz-json-1.1"
    static let amzTarget = HTTPField.Name("X-Amz-Target")!
    static let requestIDField = HTTPField.Name("x-amzn-RequestId")!
    static let errorTypeField = HTTPField.Name("x-amzn-ErrorType")!
    static let errorMessageField = HTTPField.Name("x-amzn-ErrorMessage")!

    public func addRoutes<Context: CognitoRequestContext>(to router: Router<Context>) {
        router.post("/") { request, context in await self.handle(request, context: context) }
        router.on("/", method: .options) { request, _ in self.preflight(request) }
        router.get(RouterPath("/\(poolID)/.well-known/openid-configuration")) { _, _ in self.document(self.discovery) }
        router.get(RouterPath("/\(poolID)/.well-known/jwks.json")) { _, _ in
            let jwks = self.services.keys.jwks()
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "public, max-age=300", .eTag: jwks.etag],
                body: .init(byteBuffer: ByteBuffer(bytes: jwks.body)))
        }
    }

    // MARK: Dispatch

    func handle<Context: CognitoRequestContext>(_ request: Request, context: Context) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        let origin = request.headers[.origin]
        var operation = "unknown"
        do {
            guard let target = request.headers[Self.amzTarget], target.hasPrefix(Self.targetPrefix) else {
                throw CognitoError("UnknownOperationException", "The X-Amz-Target header names no operation.")
            }
            operation = String(target.dropFirst(Self.targetPrefix.count))
            let body = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
            var accessKeyID: String?
            if CognitoCall.adminOperations.contains(operation) {
                accessKeyID = try await authenticateAdmin(request, body: body)
            }
            let input = try CognitoInput(body)
            try InputShapes.validate(operation, input.members)
            let call = CognitoCall(api: self, input: input, clientIP: context.clientIP, accessKeyID: accessKeyID)
            let output = try await call.perform(operation)
            return respond(status: .ok, json: output, requestID: requestID, origin: origin)
        } catch {
            let failure = CognitoError(error)
            if failure.status == 500 {
                context.logger.error("cognito operation failed", metadata: ["cognito.operation": "\(operation)", "error": "\(error)"])
            } else {
                context.logger.info("cognito operation refused", metadata: ["cognito.operation": "\(operation)", "cognito.error": "\(failure.code)"])
            }
            var response = respond(
                status: HTTPResponse.Status(code: failure.status), json: ["__type": failure.code, "message": failure.message], requestID: requestID,
                origin: origin)
            response.headers[Self.errorTypeField] = failure.code + ":"
            response.headers[Self.errorMessageField] = failure.message
            return response
        }
    }

    func respond(status: HTTPResponse.Status, json: [String: Any], requestID: String, origin: String?) -> Response {
        let data = CognitoJSON.encode(json)
        var headers: HTTPFields = [.contentType: Self.contentType, Self.requestIDField: requestID]
        addCORS(to: &headers, origin: origin)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Verifies an admin operation's SigV4 signature; returns its access key id.
    func authenticateAdmin(_ request: Request, body: [UInt8]) async throws -> String {
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
        let signed = SigV4Verifier.Request(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers, body: body)
        let store = services.store
        let sealer = services.sealer
        return try await SigV4Verifier(crypto: services.crypto).verify(signed, now: Date()) { id in
            guard let key = try await store.accessKey(id: id) else { return nil }
            return try sealer.open(key.sealedSecret, context: AccessKeyRecord.sealingContext(id: id))
        }
    }

    // MARK: CORS

    /// The `Access-Control-Allow-Origin` for a request from `origin`: `*` when any origin may
    /// call, the origin itself when listed, none otherwise.
    func allowedOrigin(_ origin: String?) -> String? {
        let allowed = services.settings.cognitoCORSOrigins
        if allowed.contains("*") { return "*" }
        guard let origin, allowed.contains(origin) else { return nil }
        return origin
    }

    func addCORS(to headers: inout HTTPFields, origin: String?) {
        guard let allowed = allowedOrigin(origin) else { return }
        headers[.accessControlAllowOrigin] = allowed
        headers[.accessControlExposeHeaders] = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"
        if allowed != "*" { headers[.vary] = "Origin" }
    }

    func preflight(_ request: Request) -> Response {
        var headers: HTTPFields = [:]
        addCORS(to: &headers, origin: request.headers[.origin])
        if headers[.accessControlAllowOrigin] != nil {
            headers[.accessControlAllowMethods] = "POST, OPTIONS"
            headers[.accessControlAllowHeaders] = "content-type, x-amz-target, x-amz-user-agent, cache-control"
            headers[.accessControlMaxAge] = "86400"
        }
        return Response(status: .noContent, headers: headers)
    }

    // MARK: Discovery

    /// The pool's OpenID Provider metadata: its issuer and JWKS; the endpoints are Tessera's.
    var discovery: [String: Any] {
        let base = services.settings.issuer
        return [
            "issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json",
            "authorization_endpoint": base + "/oauth2/authorize", "token_endpoint": base + "/oauth2/token",
            "userinfo_endpoint": base + "/oauth2/userinfo", "revocation_endpoint": base + "/oauth2/revoke",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "phone", CognitoTokens.adminScope],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        ]
    }

    func document(_ json: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
