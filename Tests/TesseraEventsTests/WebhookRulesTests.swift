import Foundation
import Testing
import TesseraCore
import TesseraCrypto
@testable import TesseraEvents

@Suite("Webhook rules")
struct WebhookRulesTests {
    @Test("signatures match the Standard Webhooks reference vector; two keys give two space-separated signatures")
    func signatureVector() throws {
        let key = try #require(WebhookSignature.keyBytes(of: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let crypto = OpenSSLPrimitives()
        #expect(WebhookSignature.header(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body, keys: [key], using: crypto)
            == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let two = WebhookSignature.header(id: "msg_1", timestamp: 1, body: body, keys: [key, Array(repeating: 7, count: 32)], using: crypto)
        #expect(two.split(separator: " ").count == 2 && two.split(separator: " ").allSatisfy { $0.hasPrefix("v1,") })
        let secret = WebhookSignature.makeSecret(using: crypto)
        #expect(secret.text.hasPrefix("whsec_") && WebhookSignature.keyBytes(of: secret.text) == secret.key && secret.key.count == 32)
        #expect(WebhookSignature.keyBytes(of: "whsec_!!") == nil && WebhookSignature.keyBytes(of: "secret") == nil)
    }

    @Test("address scopes", arguments: [
        ("93.184.216.34", AddressScope.publicInternet), ("2606:2800:220:1:248:1893:25c8:1946", .publicInternet),
        ("127.0.0.1", .loopback), ("127.8.8.8", .loopback), ("::1", .loopback), ("::ffff:127.0.0.1", .loopback),
        ("10.0.0.1", .nonPublic), ("172.16.0.1", .nonPublic), ("172.31.255.255", .nonPublic), ("192.168.1.1", .nonPublic),
        ("169.254.169.254", .nonPublic), ("100.64.0.1", .nonPublic), ("0.0.0.0", .nonPublic), ("224.0.0.1", .nonPublic),
        ("255.255.255.255", .nonPublic), ("198.18.0.1", .nonPublic), ("fc00::1", .nonPublic), ("fd12:3456::1", .nonPublic),
        ("fe80::1", .nonPublic), ("ff02::1", .nonPublic), ("::", .nonPublic), ("::ffff:10.0.0.1", .nonPublic),
        ("64:ff9b::a00:1", .nonPublic), ("2002:a00:1::", .nonPublic), ("2001:db8::1", .nonPublic), ("172.32.0.1", .publicInternet),
    ])
    func scopes(_ literal: String, _ scope: AddressScope) throws {
        #expect(try #require(IPAddress(literal)).scope == scope, "\(literal)")
    }

    @Test("the policy: public always; private only when allowed; http:// only to loopback")
    func policy() throws {
        let strict = AddressPolicy(allowPrivateNetworks: false)
        let open = AddressPolicy(allowPrivateNetworks: true)
        let loopback = try #require(IPAddress("127.0.0.1"))
        let privateAddress = try #require(IPAddress("10.1.1.1"))
        let outside = try #require(IPAddress("93.184.216.34"))
        #expect(strict.refusal(outside, loopbackOnly: false) == nil)
        #expect(strict.refusal(loopback, loopbackOnly: true) != nil && strict.refusal(privateAddress, loopbackOnly: false) != nil)
        #expect(open.refusal(loopback, loopbackOnly: true) == nil && open.refusal(privateAddress, loopbackOnly: false) == nil)
        #expect(open.refusal(privateAddress, loopbackOnly: true) != nil && open.refusal(outside, loopbackOnly: true) != nil)
    }

    @Test("targets: https anywhere public, http to loopback only; no credentials or fragments")
    func targets() throws {
        let target = try WebhookTarget("https://Hooks.Example.com:8443/in?x=1")
        #expect(target.isTLS && target.port == 8443 && target.requestTarget == "/in?x=1" && target.hostHeader == "Hooks.Example.com:8443")
        #expect(try WebhookTarget("http://[::1]:9000").hostHeader == "[::1]:9000")
        #expect(try WebhookTarget("http://localhost/").port == 80)
        for bad in ["http://example.com/", "https://u:p@example.com/", "https://example.com/#x", "ftp://example.com/", "https:///x", "https://exa mple.com/"] {
            #expect(throws: WebhookTarget.Invalid.self, "\(bad)") { try WebhookTarget(bad) }
        }
    }

    @Test("the retry schedule: 2xx done, 410 gone, one retry per entry with ±20 % jitter, Retry-After honoured, then dead")
    func retryPolicy() {
        let policy = RetryPolicy(schedule: [5, 300])
        let now = Date(timeIntervalSince1970: 1000)
        func answered(_ status: Int, retryAfter: String? = nil) -> AttemptOutcome {
            .answered(WebhookResponse(status: status, retryAfter: retryAfter, body: [], keepAlive: true))
        }
        #expect(policy.result(of: answered(204), attemptsBefore: 0, now: now) == .delivered(status: 204))
        #expect(policy.result(of: answered(410), attemptsBefore: 0, now: now, random: 0.5) == .gone(retryAt: now + 5))
        #expect(policy.result(of: answered(500), attemptsBefore: 0, now: now, random: 0) == .retry(at: now + 4, status: 500, error: "HTTP 500"))
        #expect(policy.result(of: answered(500), attemptsBefore: 1, now: now, random: 1) == .retry(at: now + 360, status: 500, error: "HTTP 500"))
        #expect(policy.result(of: answered(500), attemptsBefore: 2, now: now) == .dead(status: 500, error: "HTTP 500"))
        #expect(policy.result(of: answered(302), attemptsBefore: 0, now: now, random: 0.5) == .retry(at: now + 5, status: 302, error: "redirect (HTTP 302) not followed"))
        #expect(policy.result(of: answered(503, retryAfter: "120"), attemptsBefore: 0, now: now) == .retry(at: now + 120, status: 503, error: "HTTP 503"))
        #expect(policy.result(of: answered(429, retryAfter: "Thu, 01 Jan 1970 00:20:00 GMT"), attemptsBefore: 0, now: now)
            == .retry(at: now + 200, status: 429, error: "HTTP 429"))
        #expect(policy.result(of: .failed(.timedOut(seconds: 15)), attemptsBefore: 2, now: now) == .dead(status: nil, error: "no answer within 15 s"))
    }
}
