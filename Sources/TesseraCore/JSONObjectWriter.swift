/// Writes one JSON object (RFC 8259) member by member, straight to UTF-8 bytes.
///
/// For the responses of the hot paths (tokens, introspection, `/v1/me`): Foundation's
/// `JSONEncoder` builds a tree of boxed values, sorts it and walks it again, which cost
/// 12 % of introspection's CPU; this appends. Members come out in the order they are added;
/// an absent (nil) value writes no member. Strings are escaped as RFC 8259 §7 requires:
/// `"` and `\`, and every control character below U+0020. Everything else, `/` and
/// non-ASCII included, is written as its UTF-8.
public struct JSONObjectWriter: Sendable {
    private var bytes: [UInt8]
    private var isEmpty = true
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// - Parameter capacity: the bytes to reserve (the response's expected size).
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    public mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        member(name)
        appendString(value)
    }

    public mutating func add(_ name: String, _ value: Int?) {
        guard let value else { return }
        member(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func add(_ name: String, _ value: Bool?) {
        guard let value else { return }
        member(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// An array of strings.
    public mutating func add(_ name: String, _ values: [String]?) {
        guard let values else { return }
        member(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A JWT audience: one string, or an array of them.
    public mutating func add(_ name: String, _ audience: Audience?) {
        switch audience {
        case .one(let value): add(name, value)
        case .many(let values): add(name, values)
        case nil: break
        }
    }

    /// A nested object of strings, its members in key order.
    public mutating func add(_ name: String, _ object: [String: String]?) {
        guard let object else { return }
        member(name)
        var nested = JSONObjectWriter(capacity: 0)
        for key in object.keys.sorted() { nested.add(key, object[key]) }
        bytes.append(contentsOf: nested.finish())
    }

    /// A value that already is JSON (an object or array written elsewhere), copied as it is.
    /// The caller vouches that `json` is one valid JSON value.
    public mutating func addJSON(_ name: String, _ json: some Sequence<UInt8>) {
        member(name)
        bytes.append(contentsOf: json)
    }

    /// An array of objects, each written by `write`.
    public mutating func add<Element>(_ name: String, objects: [Element], _ write: (Element, inout JSONObjectWriter) -> Void) {
        member(name)
        bytes.append(contentsOf: Self.array(objects, write))
    }

    /// A top-level JSON array of objects, each written by `write`.
    public static func array<Element>(_ objects: [Element], _ write: (Element, inout JSONObjectWriter) -> Void) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, element) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            var nested = JSONObjectWriter(capacity: 0)
            write(element, &nested)
            bytes.append(contentsOf: nested.finish())
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }

    /// A top-level JSON array of values that already are JSON.
    public static func arrayOfRaw(_ values: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: value)
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }

    /// The object's bytes, closed.
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func member(_ name: String) {
        if isEmpty { isEmpty = false } else { bytes.append(UInt8(ascii: ",")) }
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Whether `utf8` holds no byte a JSON string must escape (controls, quote, backslash).
    ///
    /// Eight bytes at a time (an access token is about 800): a byte-by-byte loop took about
    /// ten instructions per byte, the largest cost of a token response outside the signature.
    static func needsNoEscape(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let start = utf8.baseAddress else { return true }
        let raw = UnsafeRawPointer(start)
        var offset = 0
        while offset + 8 <= utf8.count {
            if Self.hasByteToEscape(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) { return false }
            offset += 8
        }
        for byte in utf8[offset...] where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
        return true
    }

    /// Whether any of the eight bytes of `word` is below U+0020, a quote or a backslash.
    /// With `ones` = 0x01 in every byte and `highs` = 0x80 in every byte,
    /// `(x - n * ones) & ~x & highs` is non-zero exactly when some byte of `x` is below `n`
    /// (for n ≤ 128); a byte equal to `c` is a zero byte of `x ^ (c * ones)`.
    private static func hasByteToEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasByte(below limit: UInt64, in x: UInt64) -> Bool { (x &- limit &* ones) & ~x & highs != 0 }
        return hasByte(below: 0x20, in: word)
            || hasByte(below: 1, in: word ^ (UInt64(UInt8(ascii: "\"")) &* ones))
            || hasByte(below: 1, in: word ^ (UInt64(UInt8(ascii: "\\")) &* ones))
    }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        // Tokens, ids and most text need no escape: copy them whole. Scanned as one buffer
        // (a native string is contiguous): the closure-per-byte `contains(where:)` was the
        // largest cost of a token response outside the signature.
        let plain = value.utf8.withContiguousStorageIfAvailable(Self.needsNoEscape)
            ?? Array(value.utf8).withUnsafeBufferPointer(Self.needsNoEscape)
        if plain {
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A response body written with ``JSONObjectWriter``.
public protocol JSONObjectWritable {
    /// Adds the value's members, in the order a reader expects to see them.
    func write(to writer: inout JSONObjectWriter)
}

extension JSONObjectWritable {
    /// The value as one JSON object's UTF-8 bytes.
    public var jsonObjectBytes: [UInt8] {
        var writer = JSONObjectWriter()
        write(to: &writer)
        return writer.finish()
    }
}
