import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Strict JSON request bodies: `Content-Type: application/json`, at most the context's upload
/// size, valid UTF-8 JSON, one object, no unknown fields, each field of the right type.
/// Anything else is 400 `invalid_request` (413 for a body over the limit) naming the problem.
enum JSONBody {
    /// Decodes the body as `Value`, whose `CodingKeys` name every accepted field.
    static func decode<Value: Decodable>(
        _ type: Value.Type, from request: Request, context: some RequestContext, allowedKeys: Set<String>
    ) async throws -> Value {
        guard request.hasContentType("application/json") else { throw APIError.invalidRequest("Content-Type must be application/json") }
        let bytes = try await collect(request, limit: context.maxUploadSize)
        return try decode(type, bytes: bytes, allowedKeys: allowedKeys)
    }

    /// Decodes optional JSON: an empty body gives nil (for endpoints that also take a cookie).
    static func decodeIfPresent<Value: Decodable>(
        _ type: Value.Type, from request: Request, context: some RequestContext, allowedKeys: Set<String>
    ) async throws -> Value? {
        let bytes = try await collect(request, limit: context.maxUploadSize)
        if bytes.isEmpty { return nil }
        guard request.hasContentType("application/json") else { throw APIError.invalidRequest("Content-Type must be application/json") }
        return try decode(type, bytes: bytes, allowedKeys: allowedKeys)
    }

    static func collect(_ request: Request, limit: Int) async throws -> Data {
        Data(try await collectBuffer(request, limit: limit).readableBytesView)
    }

    /// The whole body as NIO's buffer, or 413 when it is larger than `limit`.
    static func collectBuffer(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "invalid_request", "request body is larger than \(limit) bytes")
        }
    }

    static func decode<Value: Decodable>(_ type: Value.Type, bytes: Data, allowedKeys: Set<String>) throws -> Value {
        guard String(validating: bytes, as: UTF8.self) != nil,
              let object = try? JSONSerialization.jsonObject(with: bytes, options: [])
        else { throw APIError.invalidRequest("body is not valid JSON") }
        guard let fields = object as? [String: Any] else { throw APIError.invalidRequest("body must be a JSON object") }
        // Foundation's two parsers disagree on a repeated name (JSONSerialization keeps the
        // last value, JSONDecoder the first), so such a body has no one meaning: refused,
        // as a repeated form parameter is.
        if let repeated = firstRepeatedName(in: bytes) {
            throw APIError.invalidRequest("field \"\(repeated)\" appears more than once in one object")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
            throw APIError.invalidRequest("unknown field \"\(unknown)\"")
        }
        do {
            return try JSONDecoder().decode(type, from: bytes)
        } catch let refusal as APIError {
            // A type's own decoder refusing a value it names (a null where none is allowed).
            throw refusal
        } catch DecodingError.keyNotFound(let key, _) {
            throw APIError.invalidRequest("missing field \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError.invalidRequest("field \"\(path)\" has the wrong type")
        } catch {
            throw APIError.invalidRequest("body does not match the expected fields")
        }
    }

    /// The first member name that occurs twice in one object of `json`, compared after
    /// unescaping (`"a"` and `"\u0061"` are one name). Meant for JSON already validated: it
    /// only tracks objects, arrays and strings, and on malformed input it stops (nil) rather
    /// than trap, so a parser that accepts more than it expects cannot crash the server.
    static func firstRepeatedName(in json: Data) -> String? {
        struct Level {
            let isObject: Bool
            var names: Set<String> = []
            var expectsName: Bool
        }
        let bytes = [UInt8](json)
        var levels: [Level] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"): levels.append(Level(isObject: true, expectsName: true))
            case UInt8(ascii: "["): levels.append(Level(isObject: false, expectsName: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard levels.popLast() != nil else { return nil }
            case UInt8(ascii: ","):
                guard let last = levels.indices.last else { return nil }
                if levels[last].isObject { levels[last].expectsName = true }
            case UInt8(ascii: "\""):
                let start = index
                var escaped = false
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") {
                        escaped = true
                        index += 1
                    }
                    index += 1
                }
                guard index < bytes.count else { return nil }
                if let last = levels.indices.last, levels[last].expectsName {
                    levels[last].expectsName = false
                    let literal = bytes[start...index]
                    let name = escaped
                        ? (try? JSONDecoder().decode(String.self, from: Data(literal))) ?? ""
                        : String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
                    if !levels[last].names.insert(name).inserted { return name }
                }
            default: break
            }
            index += 1
        }
        return nil
    }
}
