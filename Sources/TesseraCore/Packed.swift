/// Byte strings packed one after another, each behind its length (two bytes, big-endian): a
/// compact, exact encoding for values sealed by the server and read back by it (an SRP secret
/// block, a verifier), where JSON would spell each byte as a number.
public enum Packed {
    public static func pack(_ fields: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(0) { $0 + $1.count + 2 })
        for field in fields {
            precondition(field.count <= Int(UInt16.max), "a packed field is at most 65535 bytes")
            out.append(UInt8(field.count >> 8))
            out.append(UInt8(field.count & 0xFF))
            out += field
        }
        return out
    }

    /// The fields of `bytes`, or nil unless it holds exactly `count` whole fields.
    public static func unpack(_ bytes: [UInt8], count: Int) -> [[UInt8]]? {
        var fields: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            guard index + 2 <= bytes.count else { return nil }
            let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            index += 2
            guard index + length <= bytes.count else { return nil }
            fields.append(Array(bytes[index..<index + length]))
            index += length
        }
        return fields.count == count ? fields : nil
    }
}
