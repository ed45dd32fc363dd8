import HTTPTypes
import Hummingbird

extension Request {
    /// Whether `Content-Type` names `mediaType` (case-insensitive, parameters such as
    /// `charset` ignored). Compared on bytes: it runs on every POST.
    func hasContentType(_ mediaType: String) -> Bool {
        guard let header = headers.fieldValue(.contentType) else { return false }
        var bytes = Array(header.utf8.prefix { $0 != UInt8(ascii: ";") })
        while bytes.last == UInt8(ascii: " ") || bytes.last == UInt8(ascii: "\t") { bytes.removeLast() }
        let expected = Array(mediaType.utf8)
        guard bytes.count == expected.count else { return false }
        return zip(bytes, expected).allSatisfy { ($0 | 0x20) == ($1 | 0x20) }
    }
}
