import Foundation

/// Base64url without padding (RFC 4648 §5), as JOSE uses it. Byte-level with lookup tables:
/// it is on every token's path, and Foundation's string replacing (through NSString on Linux)
/// cost 18 % of the CPU of `/v1/me` when this was built on it.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Maps an ASCII byte to its 6-bit value, or 0xFF when it is not in the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.withContiguousStorageIfAvailable(encode) ?? Array(bytes).withUnsafeBufferPointer(encode)
    }

    /// Writes the text straight into the string's storage: no intermediate array, and no
    /// capacity check per character (this runs three times for every token signed).
    private static func encode(_ input: UnsafeBufferPointer<UInt8>) -> String {
        let length = (input.count * 4 + 2) / 3
        return alphabet.withUnsafeBufferPointer { alphabet in
            String(unsafeUninitializedCapacity: length) { output in
                var index = 0, written = 0
                while index + 3 <= input.count {
                    let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                    output[written] = alphabet[Int(chunk >> 18 & 63)]
                    output[written + 1] = alphabet[Int(chunk >> 12 & 63)]
                    output[written + 2] = alphabet[Int(chunk >> 6 & 63)]
                    output[written + 3] = alphabet[Int(chunk & 63)]
                    index += 3
                    written += 4
                }
                let remaining = input.count - index
                if remaining > 0 {
                    let chunk = UInt32(input[index]) << 16 | (remaining == 2 ? UInt32(input[index + 1]) << 8 : 0)
                    output[written] = alphabet[Int(chunk >> 18 & 63)]
                    output[written + 1] = alphabet[Int(chunk >> 12 & 63)]
                    written += 2
                    if remaining == 2 {
                        output[written] = alphabet[Int(chunk >> 6 & 63)]
                        written += 1
                    }
                }
                return written
            }
        }
    }

    /// Decodes strictly: only the base64url alphabet, no padding, no whitespace, no stray bits.
    public static func decode(_ text: some StringProtocol) -> Data? {
        decode(bytes: text.utf8)
    }

    /// Decodes the UTF-8 bytes of base64url text strictly, as ``decode(_:)``.
    public static func decode<Bytes: Collection<UInt8>>(bytes input: Bytes) -> Data? {
        // One call through the generic collection, then a concrete loop over contiguous bytes
        // (unspecialised iteration across modules cost 8 % of `/v1/me`).
        input.withContiguousStorageIfAvailable(decode(contiguous:)) ?? Array(input).withUnsafeBufferPointer(decode(contiguous:))
    }

    private static func decode(contiguous input: UnsafeBufferPointer<UInt8>) -> Data? {
        guard input.count % 4 != 1 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // The bits left over must be zero (RFC 4648 §3.5): one value has one spelling.
        guard accumulator & (1 << UInt32(bits) - 1) == 0 else { return nil }
        return Data(output)
    }
}
