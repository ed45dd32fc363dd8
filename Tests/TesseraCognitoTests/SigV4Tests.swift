import Foundation
import Testing
import TesseraCore
import TesseraCrypto
@testable import TesseraCognito

/// SigV4 (contract §11.2) against a request botocore 1.44 signed (`SigV4Auth`, fixed clock):
/// the verifier must reach the same signature, and refuse every change.
@Suite("SigV4 verification")
struct SigV4Tests {
    static let secret = Array("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".utf8)
    static let signedAt = Date(timeIntervalSince1970: 1_796_583_909)  // 2026-12-06T19:05:09Z
    static let authorization = """
        AWS4-HMAC-SHA256 Credential=AKTSEXAMPLEEXAMPLE00/20261206/eu-west-1/cognito-idp/aws4_request, \
        SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
        Signature=683ff025a90a853458d7773bb3fe35dbcf2f2c4031271673dda51c419ea901f4
        """

    static func request(body: String = #"{"UserPoolId": "eu-west-1_AbC123xyz", "Limit": 2}"#, authorization: String = authorization,
                        host: String = "127.0.0.1:8080", date: String = "20261206T190509Z") -> SigV4Verifier.Request {
        SigV4Verifier.Request(method: "POST", path: "/", query: nil, headers: [
            ("x-amz-target", "AWSCognitoIdentityProviderService.ListUsers"), ("content-type", "application/x-amz-json-1.1"),
            ("user-agent", "Boto3/1.44  md/x"), ("x-amz-date", date), ("authorization", authorization), ("host", host),
        ], body: Array(body.utf8))
    }

    let verifier = SigV4Verifier(crypto: OpenSSLPrimitives())

    func verify(_ request: SigV4Verifier.Request, now: Date = signedAt, secret: [UInt8]? = SigV4Tests.secret) async throws -> String {
        try await verifier.verify(request, now: now) { id in id == "AKTSEXAMPLEEXAMPLE00" ? secret : nil }
    }

    func code(_ body: () async throws -> String) async -> String? {
        do {
            _ = try await body()
            return nil
        } catch let error as CognitoError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test("botocore's signature verifies; four minutes of skew either way too")
    func accepts() async throws {
        #expect(try await verify(Self.request()) == "AKTSEXAMPLEEXAMPLE00")
        #expect(try await verify(Self.request(), now: Self.signedAt + 240) == "AKTSEXAMPLEEXAMPLE00")
        #expect(try await verify(Self.request(), now: Self.signedAt - 240) == "AKTSEXAMPLEEXAMPLE00")
    }

    @Test("a changed body, host or date, a wrong secret, an unknown key, old age and no signature are refused")
    func refuses() async {
        #expect(await code { try await verify(Self.request(body: #"{"UserPoolId": "eu-west-1_AbC123xyz", "Limit": 3}"#)) } == "InvalidSignatureException")
        #expect(await code { try await verify(Self.request(host: "127.0.0.1:8081")) } == "InvalidSignatureException")
        #expect(await code { try await verify(Self.request(date: "20261206T190510Z")) } == "InvalidSignatureException")
        #expect(await code { try await verify(Self.request(), secret: Array("another secret".utf8)) } == "InvalidSignatureException")
        #expect(await code { try await verify(Self.request(), now: Self.signedAt + 301) } == "InvalidSignatureException")
        let unknown = Self.authorization.replacingOccurrences(of: "AKTSEXAMPLEEXAMPLE00", with: "AKTSUNKNOWNUNKNOWN00")
        #expect(await code { try await verify(Self.request(authorization: unknown)) } == "UnrecognizedClientException")
        var unsigned = Self.request()
        unsigned.headers.removeAll { $0.name == "authorization" }
        #expect(await code { try await verify(unsigned) } == "MissingAuthenticationTokenException")
        let withoutHost = Self.authorization.replacingOccurrences(of: "content-type;host;x-amz-date", with: "content-type;x-amz-date")
        #expect(await code { try await verify(Self.request(authorization: withoutHost)) } == "IncompleteSignatureException")
        let otherService = Self.authorization.replacingOccurrences(of: "/cognito-idp/", with: "/s3/")
        #expect(await code { try await verify(Self.request(authorization: otherService)) } == "IncompleteSignatureException")
    }

    @Test("X-Amz-Date parses as UTC; nonsense does not")
    func dates() {
        #expect(SigV4Verifier.parse(amzDate: "20261206T190509Z") == Self.signedAt)
        #expect(SigV4Verifier.parse(amzDate: "20261306T190509Z") == nil)
        #expect(SigV4Verifier.parse(amzDate: "2026-12-06T19:05:09Z") == nil)
    }
}
