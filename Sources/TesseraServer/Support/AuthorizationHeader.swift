/// The credentials of an `Authorization` header for one scheme (RFC 9110 §11.4): `Bearer`
/// (RFC 6750 §2.1) and `Basic` (RFC 7617, for client authentication). Parsed on bytes: it is
/// on every authenticated request, and Foundation's trimming (through NSString on Linux) showed
/// up at 6 % of the CPU of `/v1/me`; lower-casing the header for `Basic` allocated a string.
enum AuthorizationHeader {
    /// What follows `scheme` (any case) and a space, without the spaces and tabs around it;
    /// nil when the header is of another scheme or carries nothing after it.
    static func credentials(_ header: String, scheme: StaticString) -> String? {
        let bytes = Array(header.utf8)
        let name = UnsafeBufferPointer(start: scheme.utf8Start, count: scheme.utf8CodeUnitCount)
        guard bytes.count > name.count + 1, bytes[name.count] == UInt8(ascii: " "),
              zip(bytes, name).allSatisfy({ $0 | 0x20 == $1 | 0x20 })  // ASCII, case-insensitive
        else { return nil }
        var credentials = bytes[(name.count + 1)...]
        while let first = credentials.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { credentials = credentials.dropFirst() }
        while let last = credentials.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { credentials = credentials.dropLast() }
        return credentials.isEmpty ? nil : String(decoding: credentials, as: UTF8.self)
    }
}
