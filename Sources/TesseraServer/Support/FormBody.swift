import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// `application/x-www-form-urlencoded` bodies and queries (RFC 6749 §3.2, Appendix B):
/// parameters sent more than once and bodies of another type are refused.
enum FormBody {
    /// The body's parameters; 400 `invalid_request` if it is not a form or repeats a parameter.
    static func parameters(of request: Request, context: some RequestContext) async throws -> [String: String] {
        guard request.hasContentType("application/x-www-form-urlencoded") else {
            throw OAuthError.invalidRequest("Content-Type must be application/x-www-form-urlencoded")
        }
        let bytes = try await JSONBody.collect(request, limit: context.maxUploadSize)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw OAuthError.invalidRequest("body is not UTF-8") }
        return try parse(text)
    }

    /// Parses `a=1&b=2` with `+` as space; a repeated or undecodable parameter is refused.
    static func parse(_ text: String) throws -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else {
                throw OAuthError.invalidRequest("malformed form encoding")
            }
            guard parameters[name] == nil else { throw OAuthError.invalidRequest("parameter \(name) is repeated") }
            if !value.isEmpty { parameters[name] = value }
        }
        return parameters
    }

    static func decode(_ component: Substring) -> String? {
        component.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

