import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore

/// Builds JSON responses with the wire names spelled out by each type's `CodingKeys`.
public enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response that must not be cached (tokens, errors, anything user-specific).
    public static func make(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
        // Encoding our own response types cannot fail.
        let body = try! encoder.encode(value)
        return make(status: status, body: body, cacheControl: "no-store")
    }

    /// A JSON response that must not be cached, written member by member (the hot paths).
    public static func make(status: HTTPResponse.Status = .ok, _ value: some JSONObjectWritable) -> Response {
        make(status: status, body: value.jsonObjectBytes, cacheControl: "no-store")
    }

    /// A JSON response from bytes already encoded, with the given `Cache-Control`.
    public static func make(status: HTTPResponse.Status = .ok, body: some Sequence<UInt8>, cacheControl: String, etag: String? = nil) -> Response {
        var headers: HTTPFields = [
            .contentType: "application/json",
            .cacheControl: cacheControl,
        ]
        if cacheControl == "no-store" { headers[HTTPField.Name("Pragma")!] = "no-cache" }
        if let etag { headers[.eTag] = etag }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
