import Foundation
import Testing
@testable import TesseraCore

@Suite("JSON object writer")
struct JSONObjectWriterTests {
    func parsed(_ bytes: [UInt8]) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary)
    }

    @Test("members in order, nil values left out, every kind of value")
    func members() throws {
        var writer = JSONObjectWriter()
        writer.add("active", true)
        writer.add("missing", nil as String?)
        writer.add("exp", 1_800_000_000)
        writer.add("negative", -5)
        writer.add("off", false)
        writer.add("aud", ["a", "b"])
        writer.add("attributes", ["z": "1", "a": "2"])
        writer.add("empty", [String: String]())
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text == #"{"active":true,"exp":1800000000,"negative":-5,"off":false,"aud":["a","b"],"attributes":{"a":"2","z":"1"},"empty":{}}"#)
        #expect(String(decoding: JSONObjectWriter().finish(), as: UTF8.self) == "{}")
    }

    @Test("strings round-trip through a JSON parser: quotes, backslashes, every control character, slashes, non-ASCII")
    func escaping() throws {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let values = [#"say "hi""#, #"C:\path\"#, controls, "a/b</script>", "é 🙂 \u{2028} ☃", ""]
        var writer = JSONObjectWriter()
        for (index, value) in values.enumerated() { writer.add("v\(index)", value) }
        writer.add(#"na"me\"#, "key escaped too")
        let bytes = writer.finish()
        let object = try parsed(bytes)
        for (index, value) in values.enumerated() { #expect(object["v\(index)"] as? String == value) }
        #expect(object[#"na"me\"#] as? String == "key escaped too")
        // No raw control character reaches the output (RFC 8259 §7).
        #expect(!bytes.contains { $0 < 0x20 })
    }

    @Test("the eight-bytes-at-a-time scan finds every byte to escape, at every position, and nothing else")
    func escapeScan() throws {
        let mustEscape = (0..<0x20).map { UInt8($0) } + [UInt8(ascii: "\""), UInt8(ascii: "\\")]
        // Neighbours of the limits, DEL, and the bytes of multi-byte UTF-8 (all 0x80 and above).
        let plain: [[UInt8]] = [[0x20], [0x21], [0x23], [0x5B], [0x5D], [0x7F], Array("é".utf8), Array("🙂".utf8)]
        for length in 0...40 {
            for position in 0...length {
                for special in mustEscape.map({ [$0] }) + plain {
                    let bytes = Array(repeating: UInt8(ascii: "a"), count: position) + special
                        + Array(repeating: UInt8(ascii: "b"), count: length - position)
                    let expected = !bytes.contains { mustEscape.contains($0) }
                    #expect(bytes.withUnsafeBufferPointer(JSONObjectWriter.needsNoEscape) == expected, "\(bytes)")
                }
            }
        }
        // Every string written still parses back to itself.
        var writer = JSONObjectWriter()
        let values = (0..<24).map { String(repeating: "x", count: $0) + "\"" + String(repeating: "y", count: 24 - $0) }
        for (index, value) in values.enumerated() { writer.add("v\(index)", value) }
        let object = try parsed(writer.finish())
        for (index, value) in values.enumerated() { #expect(object["v\(index)"] as? String == value) }
    }

    @Test("an inactive introspection result is exactly {\"active\":false} (RFC 7662 §2.2)")
    func introspection() throws {
        #expect(String(decoding: IntrospectionResult.inactive.jsonObjectBytes, as: UTF8.self) == #"{"active":false}"#)
    }

    @Test("access-token claims write exactly what their Codable form reads, every optional present or absent")
    func accessTokenClaims() throws {
        var full = AccessTokenClaims(iss: "https://id.example.test", sub: "u1", aud: .many(["a", "b"]), exp: 2, iat: 1, jti: "j", clientID: "c", scope: "openid email", authTime: 1)
        full.nbf = 1
        let bare = AccessTokenClaims(iss: "i", sub: "s\"q", aud: .one("a"), exp: 2, iat: 1, jti: "j", clientID: "c", scope: "", authTime: nil)
        for claims in [full, bare] {
            let written = claims.jsonObjectBytes
            #expect(try JSONDecoder().decode(AccessTokenClaims.self, from: Data(written)) == claims)
            let encoded = try JSONEncoder().encode(claims)
            #expect(Set(try parsed(written).allKeys.map { "\($0)" }) == Set(try parsed(Array(encoded)).allKeys.map { "\($0)" }))
        }
    }
}
