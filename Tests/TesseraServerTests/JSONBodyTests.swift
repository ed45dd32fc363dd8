import Foundation
import Testing
@testable import TesseraServer

@Suite("JSON bodies")
struct JSONBodyTests {
    @Test("a name repeated in one object is found, compared after unescaping, at any depth", arguments: [
        (#"{"a":1,"a":2}"#, "a"),
        (#"{"a":1,"\u0061":2}"#, "a"),
        (#"{"x":{"k":1,"k":2}}"#, "k"),
        (#"[{"a":1},{"b":2,"c":[],"b":3}]"#, "b"),
        (#"{"a\\":1,"a\\":2}"#, #"a\"#),
        (#"{"é":1,"\u00e9":2}"#, "é"),
    ])
    func repeated(json: String, name: String) {
        #expect(JSONBody.firstRepeatedName(in: Data(json.utf8)) == name)
    }

    @Test("one name in different objects, or inside string values, is not a repetition", arguments: [
        #"{"a":1,"b":2}"#,
        #"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#,
        #"{"s":"a\"b","t":"{\"s\":1,\"s\":2}"}"#,
        #"{"a":"a","b":"a"}"#,
        #"{"a":"\\","b":{"a":"\"}"}}"#,
        #"[]"#, #"{}"#, #""a""#,
    ])
    func distinct(json: String) {
        #expect(JSONBody.firstRepeatedName(in: Data(json.utf8)) == nil)
    }
}
