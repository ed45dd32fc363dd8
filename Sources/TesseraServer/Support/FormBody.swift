import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore

/// `application/x-www-form-urlencoded` bodies and queries (RFC 6749 §3.2, Appendix B):
/// parameters sent more than once and bodies of another type are refused.
///
/// Decoded on bytes: every token request and introspection passes through here with a token
/// of several hundred bytes, and Foundation's `removingPercentEncoding` (through NSString on
/// Linux) cost 18 % of introspection's CPU when this was built on it.
enum FormBody {
    /// The body's parameters; 400 `invalid_request` if it is not a form or repeats a parameter.
    static func parameters(of request: Request, context: some RequestContext) async throws -> [String: String] {
        guard request.hasContentType("application/x-www-form-urlencoded") else {
            throw OAuthError.invalidRequest("Content-Type must be application/x-www-form-urlencoded")
        }
        let body = try await JSONBody.collectBuffer(request, limit: context.maxUploadSize)
        return try body.withUnsafeReadableBytes { try parse($0) }
    }

    /// Parses `a=1&b=2` with `+` as space. A repeated parameter, a malformed `%` escape or a
    /// component that is not UTF-8 once decoded is refused; empty values count as absent.
    static func parse(_ text: String) throws -> [String: String] {
        try parse(text.utf8)
    }

    static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let separator = pair.firstIndex(of: UInt8(ascii: "="))
            guard let name = decode(pair[..<(separator ?? pair.endIndex)]),
                  let value = decode(separator.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...])
            else { throw OAuthError.invalidRequest("malformed form encoding") }
            guard parameters[name] == nil else { throw OAuthError.invalidRequest("parameter \(name) is repeated") }
            if !value.isEmpty { parameters[name] = value }
        }
        return parameters
    }

    /// One form-encoded component: `+` is a space and `%XX` a byte; nil when an escape is
    /// malformed or the result is not UTF-8.
    static func decode<Bytes: Collection<UInt8>>(_ component: Bytes) -> String? {
        // Tokens, ids and grant names hold no escape: validated as they are, in one pass over
        // the buffer (byte by byte through the generic path, a token cost an introspection 6 %
        // of its instructions).
        if let plain = component.withContiguousStorageIfAvailable(decodeWithoutEscapes), let plain {
            return plain
        }
        var decoded = [UInt8]()
        decoded.reserveCapacity(component.count)
        var index = component.startIndex
        while index != component.endIndex {
            let byte = component[index]
            component.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index != component.endIndex, let high = hexValue(component[index]) else { return nil }
                component.formIndex(after: &index)
                guard index != component.endIndex, let low = hexValue(component[index]) else { return nil }
                component.formIndex(after: &index)
                decoded.append(high << 4 | low)
            default:
                decoded.append(byte)
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }

    /// The component as UTF-8 text when it holds no `+` or `%`; nil when it does (or is not
    /// UTF-8), for the general path to decode or refuse.
    private static func decodeWithoutEscapes(_ component: UnsafeBufferPointer<UInt8>) -> String? {
        for byte in component where byte == UInt8(ascii: "+") || byte == UInt8(ascii: "%") { return nil }
        return String(validating: component, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
