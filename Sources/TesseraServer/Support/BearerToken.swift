/// `Authorization: Bearer <token>` (RFC 6750 §2.1), parsed on bytes: it is on every
/// authenticated request, and Foundation's trimming (through NSString on Linux) showed up at
/// 6 % of the CPU of `/v1/me`.
enum BearerToken {
    /// The token, or nil when the header is not a bearer authorization.
    static func parse(_ header: String) -> String? {
        let bytes = Array(header.utf8)
        guard bytes.count > 7 else { return nil }
        let scheme = bytes[0..<6].map { $0 | 0x20 }  // ASCII lower-case
        guard scheme == Array("bearer".utf8), bytes[6] == UInt8(ascii: " ") else { return nil }
        var token = bytes[7...]
        while let first = token.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { token = token.dropFirst() }
        while let last = token.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { token = token.dropLast() }
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }
}
