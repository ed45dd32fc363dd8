import Foundation
import TesseraCore

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) as the admin operations require it (contract
/// §11.2): the canonical request of exactly the headers the client signed (`host` and
/// `x-amz-date` among them), service `cognito-idp`, any region, at most 5 minutes of skew, the
/// signature compared in constant time. Its HMACs and digests come from the core's primitives.
struct SigV4Verifier: Sendable {
    let crypto: any CryptoPrimitives
    static let service = "cognito-idp"
    static let algorithm = "AWS4-HMAC-SHA256"
    static let maximumSkew: TimeInterval = 300

    /// What a request gives a verifier.
    struct Request: Sendable {
        var method: String
        /// The path as sent (percent-encoded).
        var path: String
        var query: String?
        /// `host` is the request's authority.
        var headers: [(name: String, value: String)]
        var body: [UInt8]
    }

    /// The `Authorization` header's parts.
    struct Credential: Equatable {
        var accessKeyID: String
        var date: String
        var region: String
        var service: String
        var signedHeaders: [String]
        var signature: String
    }

    static let missing = CognitoError("MissingAuthenticationTokenException", "Missing Authentication Token")

    static func incomplete(_ message: String) -> CognitoError { CognitoError("IncompleteSignatureException", message) }

    static let mismatch = CognitoError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")

    /// Parses `AWS4-HMAC-SHA256 Credential=…/date/region/service/aws4_request, SignedHeaders=…, Signature=…`.
    static func credential(_ authorization: String?) throws(CognitoError) -> Credential {
        guard let authorization else { throw missing }
        guard authorization.hasPrefix(algorithm + " ") else { throw incomplete("Authorization header requires the \(algorithm) algorithm.") }
        var parts: [String: String] = [:]
        for item in authorization.dropFirst(algorithm.count + 1).split(separator: ",") {
            let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw incomplete("Authorization header requires Credential, SignedHeaders and Signature.") }
            parts[pair[0]] = pair[1]
        }
        guard let credential = parts["Credential"], let signed = parts["SignedHeaders"], let signature = parts["Signature"] else {
            throw incomplete("Authorization header requires Credential, SignedHeaders and Signature.")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty, scope[1].count == 8, !scope[2].isEmpty else {
            throw incomplete("Credential should be scoped to a valid region, service and date: <key>/<yyyymmdd>/<region>/<service>/aws4_request.")
        }
        guard scope[3] == service else { throw incomplete("Credential should be scoped to correct service: '\(service)'.") }
        let headers = signed.split(separator: ";").map(String.init)
        guard headers.contains("host"), headers.contains("x-amz-date") else {
            throw incomplete("SignedHeaders must include host and x-amz-date.")
        }
        guard signature.count == 64, signature.allSatisfy(\.isHexDigit) else { throw mismatch }
        return Credential(accessKeyID: scope[0], date: scope[1], region: scope[2], service: scope[3], signedHeaders: headers, signature: signature)
    }

    /// Checks the request's signature with the secret of its key (nil: an unknown key). Returns
    /// the access key id.
    func verify(_ request: Request, now: Date, secret: (String) async throws -> [UInt8]?) async throws -> String {
        let credential = try Self.credential(header("authorization", in: request))
        guard let amzDate = header("x-amz-date", in: request), let signedAt = Self.parse(amzDate: amzDate) else {
            throw Self.incomplete("X-Amz-Date must be signed and in the form yyyyMMddTHHmmssZ.")
        }
        guard amzDate.hasPrefix(credential.date) else { throw Self.mismatch }
        guard abs(signedAt.timeIntervalSince(now)) <= Self.maximumSkew else {
            throw CognitoError("InvalidSignatureException", "Signature expired: \(amzDate) is now earlier or later than the allowed 5 minutes of skew.")
        }
        guard let key = try await secret(credential.accessKeyID) else {
            throw CognitoError("UnrecognizedClientException", "The security token included in the request is invalid.")
        }
        let expected = signature(request, credential: credential, amzDate: amzDate, secret: key)
        guard constantTimeEquals(Array(expected.utf8), Array(credential.signature.lowercased().utf8)) else { throw Self.mismatch }
        return credential.accessKeyID
    }

    /// The hex signature of a request under `secret`, as the client computes it.
    func signature(_ request: Request, credential: Credential, amzDate: String, secret: [UInt8]) -> String {
        let canonical = canonicalRequest(request, signedHeaders: credential.signedHeaders)
        let scope = "\(credential.date)/\(credential.region)/\(credential.service)/aws4_request"
        let stringToSign = [Self.algorithm, amzDate, scope, hex(crypto.sha256(Array(canonical.utf8)))].joined(separator: "\n")
        var key = crypto.hmacSHA256(key: Array("AWS4".utf8) + secret, Array(credential.date.utf8))
        for part in [credential.region, credential.service, "aws4_request"] { key = crypto.hmacSHA256(key: key, Array(part.utf8)) }
        return hex(crypto.hmacSHA256(key: key, Array(stringToSign.utf8)))
    }

    /// Method, canonical URI, canonical query, the signed headers (trimmed, inner runs of
    /// spaces folded, several values joined by commas), their names, the payload's SHA-256.
    func canonicalRequest(_ request: Request, signedHeaders: [String]) -> String {
        let headers = signedHeaders.map { name -> String in
            let values = request.headers.filter { $0.name == name }.map { Self.fold($0.value) }
            return "\(name):\(values.joined(separator: ","))\n"
        }.joined()
        let payloadHash = header("x-amz-content-sha256", in: request).flatMap { signedHeaders.contains("x-amz-content-sha256") ? $0 : nil }
            ?? hex(crypto.sha256(request.body))
        return [
            request.method, Self.canonicalURI(request.path), Self.canonicalQuery(request.query), headers,
            signedHeaders.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
    }

    func header(_ name: String, in request: Request) -> String? {
        request.headers.first { $0.name == name }?.value
    }

    static func fold(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// Each path segment encoded again (every service but S3 signs the path double-encoded).
    static func canonicalURI(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let pair = item.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return (encode(pair[0]), encode(pair.count > 1 ? pair[1] : ""))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Character(Unicode.Scalar(byte))
            if byte < 0x80, scalar.isLetter || scalar.isNumber || "-_.~".contains(scalar) {
                result.append(scalar)
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    /// `yyyyMMddTHHmmssZ` in UTC.
    static func parse(amzDate: String) -> Date? {
        let bytes = Array(amzDate.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
              let minute = number(11..<13), let second = number(13..<15)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }

    func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }
}

extension SigV4Verifier {
    /// The `Authorization` header that signs `request` (its `host` and `x-amz-date` headers
    /// among `request.headers`, names lowercase) with `accessKeyID` and `secret` in `region`:
    /// the same canonical request and derived key a verifier checks, from the signing side,
    /// for the lazy migration's calls to an upstream pool.
    func authorization(for request: Request, accessKeyID: String, secret: [UInt8], region: String, amzDate: String) -> String {
        let signedHeaders = Array(Set(request.headers.map(\.name))).sorted()
        let credential = Credential(
            accessKeyID: accessKeyID, date: String(amzDate.prefix(8)), region: region, service: Self.service, signedHeaders: signedHeaders,
            signature: "")
        let signature = signature(request, credential: credential, amzDate: amzDate, secret: secret)
        return "\(Self.algorithm) Credential=\(accessKeyID)/\(credential.date)/\(region)/\(Self.service)/aws4_request, "
            + "SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
    }

    /// `yyyyMMddTHHmmssZ` in UTC.
    static func amzDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
