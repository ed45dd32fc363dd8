import Testing
import TesseraCore
@testable import TesseraServer

@Suite("Form encoding (application/x-www-form-urlencoded)")
struct FormBodyTests {
    @Test("plus is a space, %XX a byte (either case), UTF-8 decoded; empty values count as absent")
    func decodes() throws {
        let parameters = try FormBody.parse("a=1+2&b=%41%c3%A9%2B&empty=&bare&=x")
        #expect(parameters == ["a": "1 2", "b": "Aé+", "": "x"])
    }

    @Test("a repeated parameter, a malformed escape or a component that is not UTF-8 is refused",
          arguments: ["a=1&a=2", "a=%4", "a=%zz", "a=%", "%ff=1", "a=%c3%28", "a=%e2%82"])
    func refuses(_ text: String) {
        #expect(throws: OAuthError.self) { try FormBody.parse(text) }
    }

    @Test("raw bytes that are not UTF-8 are refused like escaped ones")
    func rawInvalidUTF8() {
        #expect(throws: OAuthError.self) { try FormBody.parse([UInt8(ascii: "a"), UInt8(ascii: "="), 0xFF]) }
    }

    @Test("one component decodes on its own (Basic credentials are form-encoded)")
    func component() {
        #expect(FormBody.decode(Array("my%3Aclient+id".utf8)) == "my:client id")
        #expect(FormBody.decode(Array("50%".utf8)) == nil)
    }
}
